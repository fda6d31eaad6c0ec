// GPU challenges: seeded int8 matrix products that a node must compute, commit to (a Merkle root) before a deadline,
// then open at entries the coordinator samples only after the commitment arrived. Pure: generation, solving (the CPU
// stand-in), commitment, sampling and checking; the coordinator and the agent do the I/O around it.
//
// Why it works:
// - Work: each batch is C = A·Bᵀ with A, B (n×k, int8) derived from a secret seed the node learns only when the
//   challenge is issued; entries are exact int32 dot products (|C| ≤ 128²·k < 2³¹), so answers are checked bit for bit.
// - Binding: the root commits to every entry (SHA-256 Merkle tree over leaves of `leafEntries` entries); an opening
//   that does not hash to the root is rejected.
// - Sampling: `samples` entries are drawn uniformly (crypto random) after the root arrives. If a fraction f of the
//   committed entries is right, every sample is right with probability f^samples: with 40 samples, a node that did
//   half the work passes with probability 2⁻⁴⁰ ≈ 9·10⁻¹³, 75% of it with 1.0·10⁻⁵, 90% with 1.5·10⁻².
// - Timing: the root must arrive before a deadline calibrated per model from the catalogue's throughput, so a slower
//   GPU claiming a faster model runs out of time.
// - Cost to check: one sampled entry is k multiply-adds plus k/2 seeded words (4 elements each) and one Merkle path (≈ log2(leaves)
//   hashes); checking one GPU's answer is `samples` of those (bench/challenge.mjs measures it).
//
// The parts: challenge-params.ts (shape), challenge-sizing.ts (work and deadlines), challenge-matrices.ts (the seeded
// PRF), challenge-merkle.ts (the commitment), challenge-solver.ts (the CPU stand-in); this file holds what one GPU is
// asked, the sampling and the check.
import { expectedEntry, parseSeed } from './challenge-matrices.js';
import { leafHash, verifyMerklePath } from './challenge-merkle.js';
import { leafCount, totalEntries, type ChallengeParams } from './challenge-params.js';
import type { VramParams } from './vram.js';

/** What one GPU is asked: its parameters, seed and the kind of solver (the CPU stand-in is labelled as such). */
export interface GpuChallenge {
  uuid: string;
  model: string;
  kind: 'gpu' | 'cpu-stand-in';
  params: ChallengeParams;
  /** 16 random bytes, hex. */
  seed: string;
  /** How long the commitment may take for this GPU (ms). */
  deadlineMs: number;
  /** The VRAM round (src/domain/vram.ts); absent for models without catalogue memory and for older challenges. */
  vram?: VramParams;
}

export interface Opening {
  /** Global entry index: batch·n² + row·n + column. */
  entry: number;
  /** The whole leaf holding the entry. */
  leaf: number[];
  /** Sibling hashes from the leaf up to the root, base64. */
  path: string[];
}

/** `samples` uniform entry indices drawn from `randomWords` (crypto random 32-bit words, two per sample; the modulo bias is below 2^-23). */
export function sampleEntries(p: ChallengeParams, randomWords: Uint32Array): number[] {
  const total = BigInt(totalEntries(p));
  const samples: number[] = [];
  for (let i = 0; i < p.samples; i++) {
    // 64 random bits (a double would round them) reduced modulo the entry count.
    const wide = (BigInt(randomWords[2 * i]!) << 32n) | BigInt(randomWords[2 * i + 1]!);
    samples.push(Number(wide % total));
  }
  return samples;
}

export type CheckResult = { ok: true } | { ok: false; reason: string };

/**
 * Check one GPU's openings against its root: exactly the sampled entries, each leaf on the committed tree, and each
 * sampled entry equal to the product recomputed from the seed.
 */
export function checkOpenings(seedHex: string, p: ChallengeParams, rootBase64: string, samples: readonly number[], openings: readonly Opening[]): CheckResult {
  if (openings.length !== samples.length) return { ok: false, reason: `expected ${samples.length} openings, got ${openings.length}` };
  const root = Buffer.from(rootBase64, 'base64');
  if (root.length !== 32) return { ok: false, reason: 'the commitment is not a 32-byte root' };
  const seed = parseSeed(seedHex);
  const leaves = leafCount(p);
  for (let i = 0; i < samples.length; i++) {
    const opening = openings[i]!;
    const entry = samples[i]!;
    if (opening.entry !== entry) return { ok: false, reason: `opening ${i} is for entry ${opening.entry}, not the sampled ${entry}` };
    if (opening.leaf.length !== p.leafEntries || !opening.leaf.every((v) => Number.isInteger(v))) return { ok: false, reason: `opening ${i} has a malformed leaf` };
    const leafIndex = Math.floor(entry / p.leafEntries);
    if (!verifyMerklePath(root, leaves, leafIndex, leafHash(leafIndex, opening.leaf), opening.path)) return { ok: false, reason: `opening ${i} (entry ${entry}) does not match the commitment` };
    const got = opening.leaf[entry - leafIndex * p.leafEntries]!;
    const expected = expectedEntry(seed, p, entry);
    if (got !== expected) return { ok: false, reason: `entry ${entry} is wrong` };
  }
  return { ok: true };
}
