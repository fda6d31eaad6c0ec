// Slots and recent blockhashes for the local chain: one slot every 400 ms, each with a blockhash derived from the genesis hash.

import { createHash } from 'node:crypto';
import bs58 from 'bs58';

/** How many slots a blockhash stays usable, as on mainnet (MAX_PROCESSING_AGE). */
export const BLOCKHASH_VALIDITY_SLOTS = 150;
export const SLOT_MS = 400;

type SlotListener = (slot: number) => void;

/**
 * Blockhashes are a pure function of (genesis hash, slot), so after a restart the chain still knows which
 * blockhashes it handed out: a transaction signed just before a restart stays valid, as it would on a real cluster.
 * Block height equals slot: the local chain never skips a slot.
 */
export class BlockhashClock {
  private current: number;
  private readonly bySlot = new Map<number, string>();
  private readonly byHash = new Map<string, number>();
  private readonly listeners = new Set<SlotListener>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly genesisHash: string,
    startSlot: number,
  ) {
    this.current = startSlot;
    for (let slot = Math.max(0, startSlot - BLOCKHASH_VALIDITY_SLOTS); slot <= startSlot; slot++) this.remember(slot);
  }

  get slot(): number {
    return this.current;
  }

  blockhashAt(slot: number): string {
    return bs58.encode(createHash('sha256').update(`${this.genesisHash}:${slot}`).digest());
  }

  latest(): { blockhash: string; lastValidBlockHeight: number } {
    return { blockhash: this.bySlot.get(this.current)!, lastValidBlockHeight: this.current + BLOCKHASH_VALIDITY_SLOTS };
  }

  /** The slot a still-valid blockhash was issued in, or undefined when unknown or expired. */
  slotOf(blockhash: string): number | undefined {
    return this.byHash.get(blockhash);
  }

  isValid(blockhash: string): boolean {
    return this.byHash.has(blockhash);
  }

  /** Moves to the next slot (also used directly to get a fresh blockhash, and by tests to expire blockhashes fast). */
  advance(slots = 1): number {
    for (let i = 0; i < slots; i++) {
      this.current++;
      this.remember(this.current);
      const expired = this.current - BLOCKHASH_VALIDITY_SLOTS - 1;
      const hash = this.bySlot.get(expired);
      if (hash !== undefined) {
        this.bySlot.delete(expired);
        this.byHash.delete(hash);
      }
    }
    for (const listener of this.listeners) listener(this.current);
    return this.current;
  }

  onSlot(listener: SlotListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(intervalMs = SLOT_MS): void {
    this.stop();
    this.timer = setInterval(() => this.advance(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private remember(slot: number): void {
    const hash = this.blockhashAt(slot);
    this.bySlot.set(slot, hash);
    this.byHash.set(hash, slot);
  }
}
