// Commitment levels on the local chain. Two modes:
// - 'instant' (the default): a transaction is finalized the moment it lands, every commitment level sees the same slot.
// - 'realistic': like a cluster — a transaction is `processed` in the slot it lands in, `confirmed` once that slot is
//   complete (the next slot), and `finalized` once FINALIZATION_DEPTH slots are built on it (~13 s at 400 ms slots),
//   so clients meet the waits and races a real cluster shows.
// Account state is always the latest (processed) state: the chain keeps no per-slot bank snapshots.

export type CommitmentMode = 'instant' | 'realistic';
export type Commitment = 'processed' | 'confirmed' | 'finalized';

/** Slots a block needs on top of it before it is rooted (MAX_LOCKOUT_HISTORY on a cluster). */
export const FINALIZATION_DEPTH = 32;

/** Parses a commitment as clients send it (web3.js also still sends the deprecated names). */
export function commitmentOf(value: unknown, fallback: Commitment = 'finalized'): Commitment {
  switch (value) {
    case 'processed':
    case 'recent':
      return 'processed';
    case 'confirmed':
    case 'single':
    case 'singleGossip':
      return 'confirmed';
    case 'finalized':
    case 'max':
    case 'root':
      return 'finalized';
    default:
      return fallback;
  }
}

/** The highest slot that has reached `commitment` when `current` is the slot being built. */
export function slotAt(mode: CommitmentMode, current: number, commitment: Commitment): number {
  if (mode === 'instant' || commitment === 'processed') return current;
  if (commitment === 'confirmed') return Math.max(0, current - 1);
  return Math.max(0, current - FINALIZATION_DEPTH);
}

/** How far a transaction that landed in `slot` has come, as getSignatureStatuses reports it. */
export function statusOf(mode: CommitmentMode, current: number, slot: number): { confirmationStatus: Commitment; confirmations: number | null } {
  if (slot <= slotAt(mode, current, 'finalized')) return { confirmationStatus: 'finalized', confirmations: null };
  if (slot <= slotAt(mode, current, 'confirmed')) return { confirmationStatus: 'confirmed', confirmations: current - slot };
  return { confirmationStatus: 'processed', confirmations: 0 };
}

/** Whether a transaction that landed in `slot` has reached `commitment`. */
export function reached(mode: CommitmentMode, current: number, slot: number, commitment: Commitment): boolean {
  return slot <= slotAt(mode, current, commitment);
}
