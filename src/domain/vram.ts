// The VRAM round of a GPU challenge: the node fills ~90% of the memory its GPU model claims with seeded 32-bit words
// while it computes the matrix products, then answers word queries the coordinator draws at the commitment, within a
// short window. The coordinator recomputes each queried word from the seed (`rounds` PRF calls). Pure.
//
// What it shows, and what it does not:
// - The honest kernel allocates and fills the table on the GPU before it commits: a GPU with less memory than its model
//   claims cannot (the allocation fails, nothing is committed, the challenge fails or expires). Misreported and
//   mislabelled GPUs, and nodes that run the kernel as shipped, are caught.
// - The words come from the seed, which the node learns at issue: no table can be prepared beforehand.
// - Recomputing instead of looking up: a word costs `rounds` chained PRF calls (sequential within the word), a lookup
//   one memory read. With few queries a modified kernel on a real GPU could recompute them inside the window (the
//   queries are cheap to check because they are cheap to compute), so against a node that rewrites the kernel this
//   round proves only that a table of the right words could be produced, not that it stayed resident. Proving
//   residency against such a node needs a memory-hard table committed by a Merkle root and opened with its parents
//   (a proof of space, a third round); the README's threat model lists it as not covered.
import { fmix32, parseSeed, type Seed } from './challenge-matrices.js';
import { resolveGpuModel } from './gpu-catalogue.js';

export interface VramParams {
  /** Words (4 bytes each) the node fills: 90% of the model's memory (a few MB for the CPU stand-in). */
  words: number;
  /** PRF calls per word. */
  rounds: number;
  /** Words the coordinator queries after the commitment. */
  queries: number;
}

/** Share of the claimed memory the table fills (the rest is the kernel's working memory). */
export const VRAM_FILL_SHARE = 0.9;
export const VRAM_ROUNDS = 16;
export const VRAM_QUERIES = 64;
/** The CPU stand-in fills 2 MiB in-process (simulated GPUs have no memory to prove). */
export const CPU_STAND_IN_VRAM: VramParams = Object.freeze({ words: 512 * 1024, rounds: VRAM_ROUNDS, queries: VRAM_QUERIES });

/**
 * The VRAM round for one GPU of `model`: 90% of the catalogue's memory for the model (the claim is the model), scaled
 * by `scale` in tests. Unknown models claim no catalogue memory: no VRAM round (their challenge is held to a mid-range
 * GPU's compute only).
 */
export function sizeVram(model: string, simulated: boolean, scale = 1): VramParams | undefined {
  if (simulated) return CPU_STAND_IN_VRAM;
  const gb = resolveGpuModel(model).vramGb;
  if (!gb) return undefined;
  const words = Math.max(1024, Math.floor((VRAM_FILL_SHARE * gb * 2 ** 30 * scale) / 4));
  return { words, rounds: VRAM_ROUNDS, queries: VRAM_QUERIES };
}

/** Word `index` of the table: `rounds` chained PRF calls keyed by the seed (indices go past 2³², hence hi and lo). */
export function vramWord(seed: Seed, index: number, rounds: number): number {
  const lo = index >>> 0;
  const hi = Math.floor(index / 2 ** 32) >>> 0;
  let v = fmix32(lo ^ seed.s3) ^ fmix32((hi + 0x6a09e667) ^ seed.s2);
  for (let round = 0; round < rounds; round++) v = fmix32((v ^ seed.s0) + Math.imul(round + 1, 0x9e3779b1) + seed.s1);
  return v >>> 0;
}

/** Fill a table (the CPU stand-in). */
export function fillVram(seedHex: string, p: VramParams): Uint32Array {
  const seed = parseSeed(seedHex);
  const table = new Uint32Array(p.words);
  for (let i = 0; i < p.words; i++) table[i] = vramWord(seed, i, p.rounds);
  return table;
}

/** `queries` uniform word indices from crypto random words (two per query; modulo bias below 2⁻²⁸). */
export function sampleVramQueries(p: VramParams, randomWords: Uint32Array): number[] {
  const words = BigInt(p.words);
  return Array.from({ length: p.queries }, (_, i) => Number(((BigInt(randomWords[2 * i]!) << 32n) | BigInt(randomWords[2 * i + 1]!)) % words));
}

export type VramCheck = { ok: true } | { ok: false; reason: string };

/** Every queried word answered, and equal to the word recomputed from the seed. */
export function checkVramAnswers(seedHex: string, p: VramParams, queries: readonly number[], answers: readonly number[] | undefined): VramCheck {
  if (!answers || answers.length !== queries.length) return { ok: false, reason: `expected ${queries.length} VRAM words, got ${answers?.length ?? 0}` };
  const seed = parseSeed(seedHex);
  for (let i = 0; i < queries.length; i++) {
    if (answers[i] !== vramWord(seed, queries[i]!, p.rounds)) return { ok: false, reason: `VRAM word ${queries[i]} is wrong` };
  }
  return { ok: true };
}

export function validVramParams(p: VramParams): boolean {
  return [p.words, p.rounds, p.queries].every((v) => Number.isSafeInteger(v) && v > 0) && p.words <= 2 ** 40 && p.rounds <= 1024 && p.queries <= 256;
}
