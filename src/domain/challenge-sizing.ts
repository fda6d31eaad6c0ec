// How much work a GPU challenge asks and how long it may take: the work sized to about 20 s on the claimed model (from
// the catalogue's throughput) plus the VRAM fill, and the deadline a slower GPU misses. The CPU stand-in gets a small
// fixed challenge with a generous deadline. Pure.
import type { GpuChallenge } from './challenge.js';
import { CPU_STAND_IN_PARAMS, type ChallengeParams } from './challenge-params.js';
import { resolveGpuModel } from './gpu-catalogue.js';
import { CPU_STAND_IN_VRAM, sizeVram, type VramParams } from './vram.js';

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
