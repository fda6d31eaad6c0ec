// When each slot of the local chain began (getBlockTime of slots without transactions, this run's and earlier runs'),
// and the slot file's ceiling, which lets a chain restarted after a crash resume past every slot it handed out.
import { SLOT_MS } from './blockhash-clock.js';
import type { Journal } from './journal.js';

/** How far ahead of the clock the slot file's ceiling is written (25 slots = 10 s). */
const SLOT_FILE_RESERVE = 25;

export class SlotTimes {
  private readonly startTime = Math.floor(Date.now() / 1000);
  /** Unix seconds at which each slot from startSlot on began. */
  private readonly times: number[] = [this.startTime];
  private ceiling: number;

  /**
   * @param startSlot the first slot this process builds
   * @param saved where the previous run stopped (slot and Unix seconds), to date empty slots from before this run
   */
  constructor(
    private readonly startSlot: number,
    private readonly saved: { slot: number; time: number } | undefined,
    private readonly journal: Journal | undefined,
  ) {
    this.ceiling = startSlot;
  }

  /**
   * The clock reached `slot`. The slot file holds a ceiling a little ahead of the clock, rewritten only when the clock
   * reaches it (every ~10 s, not every slot); the chain's close() writes the exact slot.
   */
  reach(slot: number): void {
    const now = Math.floor(Date.now() / 1000);
    while (this.startSlot + this.times.length <= slot) this.times.push(now);
    if (slot >= this.ceiling) {
      this.ceiling = slot + SLOT_FILE_RESERVE;
      this.journal?.writeSlot({ slot: this.ceiling, time: now + Math.round((SLOT_FILE_RESERVE * SLOT_MS) / 1000) });
    }
  }

  /** Unix seconds of a reached slot with no transactions: when this process reached it, or an estimate for earlier runs. */
  timeOf(slot: number): number {
    if (slot >= this.startSlot) return this.times[slot - this.startSlot] ?? this.startTime;
    const anchor = this.saved ?? { slot: this.startSlot, time: this.startTime };
    return Math.max(0, anchor.time - Math.round(((anchor.slot - slot) * SLOT_MS) / 1000));
  }
}
