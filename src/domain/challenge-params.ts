// The shape of a GPU challenge (matrix sizes, batches, leaf width, samples) and the counts every other part derives
// from it. Pure; src/domain/challenge.ts describes the protocol.

export interface ChallengeParams {
  /** Rows of A and of B (C is n×n). */
  n: number;
  /** Inner dimension (≤ 131 071 keeps every entry exact in int32). */
  k: number;
  batches: number;
  /** Entries per Merkle leaf (divides n). */
  leafEntries: number;
  samples: number;
}

/** The CPU stand-in for simulated GPUs: small enough to run in-process in Node (tens of ms), checked the same way. */
export const CPU_STAND_IN_PARAMS: ChallengeParams = Object.freeze({ n: 128, k: 512, batches: 2, leafEntries: 16, samples: 40 });

export const totalEntries = (p: ChallengeParams) => p.batches * p.n * p.n;
export const leafCount = (p: ChallengeParams) => totalEntries(p) / p.leafEntries;

export function validParams(p: ChallengeParams): boolean {
  return [p.n, p.k, p.batches, p.leafEntries, p.samples].every((v) => Number.isInteger(v) && v > 0) && p.k <= 131_071 && p.n % p.leafEntries === 0 && totalEntries(p) <= 2 ** 40;
}
