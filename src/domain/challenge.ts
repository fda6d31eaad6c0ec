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
import { createHash } from 'node:crypto';
import { resolveGpuModel } from './gpu-catalogue.js';
import { CPU_STAND_IN_VRAM, sizeVram, type VramParams } from './vram.js';

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

/** The CPU stand-in for simulated GPUs: small enough to run in-process in Node (tens of ms), checked the same way. */
export const CPU_STAND_IN_PARAMS: ChallengeParams = Object.freeze({ n: 128, k: 512, batches: 2, leafEntries: 16, samples: 40 });

/**
 * Real GPUs: the batch count sizes the work to the model. k sets the GEMM work per committed entry (2k int8 ops per 4-byte
 * entry) and the coordinator's cost per sample (k/2 PRF words and k multiply-adds, plus a Merkle path): k = 32 768 keeps
 * one answer's check near 4 ms of CPU (bench/challenge.mjs) while the leaves an H100 must hash fall to ~42 GB/s, which
 * the kernel hashes on the GPU (~1.2·10⁹ SHA-256 compressions/s, a small share of its integer throughput); no CPU could:
 * one core hashes ~0.7 GB/s of 261-byte leaves.
 */
const GPU_BASE = { n: 4096, k: 32_768, leafEntries: 64, samples: 40 } as const;

/** Conservative throughput of the CPU stand-in in Node on a busy small machine (int ops per ms; measured ~130 000 on 2 loaded cores). */
export const CPU_STAND_IN_OPS_PER_MS = 100_000;
/** The stand-in only has to show the protocol runs end to end: its deadline is generous. */
const STAND_IN_SLACK = 2;
/** Share of the datasheet int8 rate a straightforward int8 GEMM + hashing kernel reaches. */
const GPU_EFFICIENCY = 0.35;
/** Models the catalogue does not know are held to this FP16 figure (a mid-range datacenter GPU). */
const UNKNOWN_MODEL_FP16_TFLOPS = 150;
/** The GPU work is sized to take about this long on the claimed model. */
const GPU_TARGET_MS = 20_000;
/** Deadline = allowance + slack × expected: a GPU slower than about slack× the claimed one misses it. */
export const DEADLINE_SLACK = 1.25;

/** Integer operations of one challenge (a multiply-add counts two). */
export function challengeOps(p: ChallengeParams): number {
  return 2 * p.batches * p.n * p.n * p.k;
}

/** int8 ops per ms the claimed model is held to: dense int8 is twice dense FP16 on tensor-core GPUs. */
export function modelOpsPerMs(model: string): number {
  const fp16 = resolveGpuModel(model).fp16Tflops ?? UNKNOWN_MODEL_FP16_TFLOPS;
  return fp16 * 2 * 1e9 * GPU_EFFICIENCY;
}

export interface ChallengeSizing {
  /** Fixed time for network round trips, container start and hashing set-up (ms). */
  allowanceMs: number;
  /** Tests only: shrinks the work (not the rate a model is held to), so a CPU can answer a small "GPU" challenge. */
  workScale?: number;
  /** Tests only: shrinks the VRAM table of real GPUs (default: the stand-in's table when workScale shrinks the work). */
  vramScale?: number;
}

/** PRF calls per ms the VRAM fill is held to: the CPU stand-in in Node, and a GPU's integer units (~1/20 of its int8 tensor rate, ~10 ops a call). */
const STAND_IN_PRF_PER_MS = 50_000;
const GPU_PRF_SHARE = 1 / 200;

function vramFillMs(vram: VramParams | undefined, prfPerMs: number): number {
  return vram ? (vram.words * (vram.rounds + 2)) / prfPerMs : 0;
}

/** The parameters and deadline for one GPU of `model`; a simulated node always gets the CPU stand-in. */
export function sizeChallenge(model: string, simulated: boolean, sizing: ChallengeSizing): { kind: GpuChallenge['kind']; params: ChallengeParams; deadlineMs: number; vram?: VramParams } {
  const scale = sizing.workScale ?? 1;
  if (simulated) {
    const params = CPU_STAND_IN_PARAMS;
    const vram = CPU_STAND_IN_VRAM;
    const expectedMs = challengeOps(params) / CPU_STAND_IN_OPS_PER_MS + vramFillMs(vram, STAND_IN_PRF_PER_MS);
    return { kind: 'cpu-stand-in', params, vram, deadlineMs: Math.round(sizing.allowanceMs + STAND_IN_SLACK * expectedMs) };
  }
  const rate = modelOpsPerMs(model);
  const perBatch = challengeOps({ ...GPU_BASE, batches: 1 });
  let params: ChallengeParams = { ...GPU_BASE, batches: Math.max(1, Math.round((GPU_TARGET_MS * rate) / perBatch)) };
  if (scale < 1) {
    // Same shape, fewer and smaller batches: still exact and sampled the same way.
    params = { ...CPU_STAND_IN_PARAMS, batches: Math.max(1, Math.min(CPU_STAND_IN_PARAMS.batches, Math.round(params.batches * scale))) };
  }
  const vram = sizing.vramScale !== undefined ? sizeVram(model, false, sizing.vramScale) : scale < 1 ? CPU_STAND_IN_VRAM : sizeVram(model, false);
  const expectedMs = challengeOps(params) / rate + vramFillMs(vram, rate * GPU_PRF_SHARE);
  return { kind: 'gpu', params, ...(vram ? { vram } : {}), deadlineMs: Math.round(sizing.allowanceMs + DEADLINE_SLACK * expectedMs) };
}

/**
 * The whole challenge's deadline: GPUs compute their parts in parallel (the slowest part counts), the in-process CPU
 * stand-in computes its parts one after another (they add up). One allowance either way.
 */
export function challengeDeadlineMs(parts: ReadonlyArray<{ kind: GpuChallenge['kind']; deadlineMs: number }>, allowanceMs: number): number {
  const gpu = Math.max(0, ...parts.filter((p) => p.kind === 'gpu').map((p) => p.deadlineMs - allowanceMs));
  const standIn = parts.filter((p) => p.kind === 'cpu-stand-in').reduce((sum, p) => sum + (p.deadlineMs - allowanceMs), 0);
  return allowanceMs + Math.max(gpu, standIn);
}

// ---------------------------------------------------------------- seeded matrices

function fmix32(h: number): number {
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

// ---------------------------------------------------------------- Merkle commitment

const LEAF = Buffer.from([0]);
const INNER = Buffer.from([1]);

export function leafHash(index: number, entries: ArrayLike<number>): Buffer {
  const bytes = Buffer.alloc(4 + entries.length * 4);
  bytes.writeUInt32BE(index >>> 0, 0);
  for (let i = 0; i < entries.length; i++) bytes.writeInt32LE(entries[i]!, 4 + i * 4);
  return createHash('sha256').update(LEAF).update(bytes).digest();
}

function innerHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(INNER).update(left).update(right).digest();
}

/** Every level of the tree, leaves first; an odd last node is paired with itself. */
export function merkleLevels(leaves: Buffer[]): Buffer[][] {
  if (leaves.length === 0) throw new Error('A Merkle tree needs at least one leaf.');
  const levels = [leaves];
  while (levels.at(-1)!.length > 1) {
    const below = levels.at(-1)!;
    const above: Buffer[] = [];
    for (let i = 0; i < below.length; i += 2) above.push(innerHash(below[i]!, below[i + 1] ?? below[i]!));
    levels.push(above);
  }
  return levels;
}

export function merklePath(levels: Buffer[][], leafIndex: number): string[] {
  const path: string[] = [];
  let index = leafIndex;
  for (let level = 0; level < levels.length - 1; level++) {
    const nodes = levels[level]!;
    const sibling = index ^ 1;
    path.push((nodes[sibling] ?? nodes[index]!).toString('base64'));
    index >>= 1;
  }
  return path;
}

/** Does `leaf` at `leafIndex`, with `path`, hash up to `root` (tree of `leafCount` leaves)? */
export function verifyMerklePath(root: Buffer, leafCount: number, leafIndex: number, leaf: Buffer, path: readonly string[]): boolean {
  let depth = 0;
  for (let width = leafCount; width > 1; width = Math.ceil(width / 2)) depth++;
  if (path.length !== depth) return false;
  let hash = leaf;
  let index = leafIndex;
  for (const encoded of path) {
    const sibling = Buffer.from(encoded, 'base64');
    if (sibling.length !== 32) return false;
    hash = index & 1 ? innerHash(sibling, hash) : innerHash(hash, sibling);
    index >>= 1;
  }
  return hash.equals(root);
}

export const totalEntries = (p: ChallengeParams) => p.batches * p.n * p.n;
export const leafCount = (p: ChallengeParams) => totalEntries(p) / p.leafEntries;

export function validParams(p: ChallengeParams): boolean {
  return [p.n, p.k, p.batches, p.leafEntries, p.samples].every((v) => Number.isInteger(v) && v > 0) && p.k <= 131_071 && p.n % p.leafEntries === 0 && totalEntries(p) <= 2 ** 40;
}

// ---------------------------------------------------------------- solving (the CPU stand-in)

/** A computed challenge: its root, and what it needs to open any entry. */
export interface SolvedChallenge {
  root: string;
  open(entries: readonly number[]): Opening[];
}

/** Compute every batch, hash it into the tree and keep it for the openings. CPU, in-process: the stand-in solver. */
export function solveChallenge(seedHex: string, p: ChallengeParams): SolvedChallenge {
  if (!validParams(p)) throw new Error('Invalid challenge parameters.');
  const seed = parseSeed(seedHex);
  const { n, k } = p;
  const product = new Int32Array(totalEntries(p));
  const a = new Int8Array(n * k);
  const b = new Int8Array(n * k);
  const row = new Int8Array(k);
  for (let batch = 0; batch < p.batches; batch++) {
    for (let i = 0; i < n; i++) {
      fillRow(seed, batch, 0, i, k, row);
      a.set(row, i * k);
      fillRow(seed, batch, 1, i, k, row);
      b.set(row, i * k);
    }
    const base = batch * n * n;
    for (let i = 0; i < n; i++) {
      const ai = i * k;
      for (let j = 0; j < n; j++) {
        const bj = j * k;
        let sum = 0;
        for (let t = 0; t < k; t++) sum += a[ai + t]! * b[bj + t]!;
        product[base + i * n + j] = sum;
      }
    }
  }
  return committedAnswers(product, p);
}

/** Openings over a product table as given (the honest solver, and tests that tamper with entries before committing). */
export function committedAnswers(product: Int32Array, p: ChallengeParams, leaves: Buffer[] = hashLeaves(product, p)): SolvedChallenge {
  const levels = merkleLevels(leaves);
  return {
    root: levels.at(-1)![0]!.toString('base64'),
    open: (entries) =>
      entries.map((entry) => {
        const leaf = Math.floor(entry / p.leafEntries);
        return { entry, leaf: Array.from(product.subarray(leaf * p.leafEntries, (leaf + 1) * p.leafEntries)), path: merklePath(levels, leaf) };
      }),
  };
}

function hashLeaves(product: Int32Array, p: ChallengeParams): Buffer[] {
  const leaves: Buffer[] = [];
  for (let leaf = 0; leaf < leafCount(p); leaf++) leaves.push(leafHash(leaf, product.subarray(leaf * p.leafEntries, (leaf + 1) * p.leafEntries)));
  return leaves;
}

// ---------------------------------------------------------------- sampling and checking

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
