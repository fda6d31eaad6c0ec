// The seeded int8 matrices of a GPU challenge: a 32-bit PRF keyed by the secret seed gives every row of A and B, so
// one entry of C = A·Bᵀ can be recomputed from the seed alone (what the coordinator does per sample) and the node cannot
// know the matrices before the challenge is issued. The VRAM round (vram.ts) draws its words from the same seed. Pure.
import type { ChallengeParams } from './challenge-params.js';

/** MurmurHash3's 32-bit finaliser: the mixing step of every PRF call here and in the VRAM round. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export interface Seed {
  s0: number;
  s1: number;
  s2: number;
  s3: number;
}

export function parseSeed(hex: string): Seed {
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error('A challenge seed is 32 lower-case hex digits.');
  const b = Buffer.from(hex, 'hex');
  return { s0: b.readUInt32BE(0), s1: b.readUInt32BE(4), s2: b.readUInt32BE(8), s3: b.readUInt32BE(12) };
}

/** Key of one row of A (which = 0) or of B (which = 1) in one batch. */
function rowKey(seed: Seed, batch: number, which: 0 | 1, row: number): number {
  const id = fmix32(Math.imul(batch * 2 + which, 0x9e3779b1) ^ seed.s2);
  return fmix32(seed.s0 ^ fmix32(seed.s1 ^ fmix32((id + row) ^ seed.s3)));
}

/**
 * The seeded 32-bit word holding elements 4w..4w+3 of a row: one PRF call serves four int8 elements, so recomputing an
 * entry (what the coordinator does per sample) costs k/2 PRF calls rather than 2k, and k can be larger for the same check
 * cost (more GEMM work per committed byte).
 */
function elementWord(key: number, word: number): number {
  return fmix32(key ^ Math.imul(word + 1, 0x85ebca6b));
}

/** Fill `out` (length k) with one row of A or B: element t is byte t mod 4 of word ⌊t/4⌋, minus 128. */
export function fillRow(seed: Seed, batch: number, which: 0 | 1, row: number, k: number, out: Int8Array): void {
  const key = rowKey(seed, batch, which, row);
  for (let t = 0; t < k; t += 4) {
    const word = elementWord(key, t >>> 2);
    for (let byte = 0; byte < 4 && t + byte < k; byte++) out[t + byte] = ((word >>> (8 * byte)) & 0xff) - 128;
  }
}

/** One entry of C_batch = A·Bᵀ, recomputed from the seed alone (what the coordinator does per sample). */
export function expectedEntry(seed: Seed, p: ChallengeParams, entry: number): number {
  const nn = p.n * p.n;
  const batch = Math.floor(entry / nn);
  const rest = entry - batch * nn;
  const row = Math.floor(rest / p.n);
  const col = rest - row * p.n;
  const a = rowKey(seed, batch, 0, row);
  const b = rowKey(seed, batch, 1, col);
  const whole = p.k - (p.k % 4);
  let sum = 0;
  for (let t = 0; t < whole; t += 4) {
    const x = elementWord(a, t >>> 2);
    const y = elementWord(b, t >>> 2);
    sum +=
      ((x & 0xff) - 128) * ((y & 0xff) - 128) +
      (((x >>> 8) & 0xff) - 128) * (((y >>> 8) & 0xff) - 128) +
      (((x >>> 16) & 0xff) - 128) * (((y >>> 16) & 0xff) - 128) +
      ((x >>> 24) - 128) * ((y >>> 24) - 128);
  }
  if (whole < p.k) {
    const x = elementWord(a, whole >>> 2);
    const y = elementWord(b, whole >>> 2);
    for (let byte = 0; whole + byte < p.k; byte++) sum += (((x >>> (8 * byte)) & 0xff) - 128) * (((y >>> (8 * byte)) & 0xff) - 128);
  }
  return sum;
}
