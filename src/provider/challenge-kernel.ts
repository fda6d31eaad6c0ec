// Answers a real GPU's challenge with the challenge kernel (src/provider/challenge-kernel/kernel.py) in a locked-down
// container that sees only that GPU (src/domain/challenge-kernel-args.ts), talking line-delimited JSON over its
// stdin/stdout: the challenge in, the root out; the samples in, the openings out. The container is removed when it exits.
import { createInterface } from 'node:readline';
import { buildKernelRunArgs } from '../domain/challenge-kernel-args.js';
import type { Opening } from '../domain/challenge.js';
import type { ChallengeOffer } from '../api/schemas/provider-trust.js';
import { ensureKernelImage, type KernelImageStep } from './challenge-kernel-image.js';

/**
 * The image `provide` runs for real GPUs, built from src/provider/challenge-kernel/Dockerfile (the agent builds it when
 * no registry has it: src/provider/challenge-kernel-image.ts). Override per node.
 */
export const DEFAULT_CHALLENGE_KERNEL_IMAGE = 'ghcr.io/iocli/challenge-kernel:0.1.0';

export interface ChallengeKernelOptions {
  image: string;
  /** Default true. False runs the same container without --gpus (tests on machines without an NVIDIA runtime). */
  gpuFlag?: boolean;
  dockerPath?: string;
  /** Host memory for the kernel process (default 8 GiB: the product tables live in VRAM, the openings on the host). */
  memoryBytes?: number;
  cpus?: number;
  /** Where `docker build` finds the Dockerfile when the image is missing and cannot be pulled (default: the shipped one). */
  buildContext?: string;
  /** Extra environment for the docker CLI's pull and build (tests: DOCKER_BUILDKIT=0). */
  dockerEnv?: Record<string, string>;
  /** Pulling or building a missing image takes minutes on a rig: the agent logs each step. */
  onImageStep?: (step: KernelImageStep) => void;
}

/** A computed challenge whose openings come from a running kernel; `close` ends the container. */
export interface KernelAnswer {
  root: string;
  backend: string;
  computeMs: number;
  open(entries: readonly number[]): Promise<Opening[]>;
  lookup(words: readonly number[]): Promise<number[]>;
  close(): Promise<void>;
}

const STDERR_TAIL = 4_000;

/** Starts the kernel for one GPU and waits for its root. Rejects (and removes the container) on any failure or abort. */
export async function runChallengeKernel(
  options: ChallengeKernelOptions,
  input: { nodeId: string; challengeId: string; gpu: ChallengeOffer['gpus'][number]; signal: AbortSignal },
): Promise<KernelAnswer> {
  const { execa } = await import('execa');
  const docker = options.dockerPath ?? 'docker';
  const name = `iocli-challenge-${input.challengeId}-${input.gpu.uuid}`.replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 128);
  const args = buildKernelRunArgs({
    image: options.image,
    nodeId: input.nodeId,
    challengeId: input.challengeId,
    gpuUuid: input.gpu.uuid,
    gpuFlag: options.gpuFlag ?? true,
    memoryBytes: options.memoryBytes ?? 8 * 1024 ** 3,
    cpus: options.cpus ?? 1,
    name,
  });
  // The run itself never pulls: a missing image is pulled, or else built, first (once per image per process).
  await ensureKernelImage({ image: options.image, dockerPath: docker, buildContext: options.buildContext, dockerEnv: options.dockerEnv, signal: input.signal, onStep: options.onImageStep });
  const child = execa(docker, args, { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', reject: false, buffer: false, cancelSignal: input.signal, env: { DOCKER_CLI_HINTS: 'false' } });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_TAIL);
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = child.then((result) => result);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    // A killed docker CLI leaves its container running: remove it by name (already gone after a clean exit).
    await execa(docker, ['rm', '-f', name], { reject: false, env: { DOCKER_CLI_HINTS: 'false' } });
  };
  const failure = (what: string) => new Error(`challenge kernel for ${input.gpu.uuid} ${what}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
  const readReply = async (): Promise<Record<string, unknown>> => {
    const next = await lines.next();
    if (next.done) {
      const result = await exited;
      throw failure(result.isCanceled ? 'was cancelled' : `exited (${result.exitCode ?? result.signal ?? 'unknown'}) without answering`);
    }
    const reply = JSON.parse(next.value) as Record<string, unknown>;
    if (typeof reply.error === 'string') throw failure(`failed (${reply.error})`);
    return reply;
  };
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(step: () => Promise<T>): Promise<T> => {
    const run = queue.then(step, step);
    queue = run.catch(() => undefined);
    return run;
  };
  // One request at a time over the pipe: lookups and openings are chained, never interleaved.
  const ask = <T>(request: object, field: string, missing: string): Promise<T[]> =>
    serial(async () => {
      child.stdin!.write(`${JSON.stringify(request)}\n`);
      const answer = (await readReply())[field];
      if (!Array.isArray(answer)) throw failure(missing);
      return answer as T[];
    });
  try {
    child.stdin!.write(`${JSON.stringify({ seed: input.gpu.seed, params: input.gpu.params, ...(input.gpu.vram ? { vram: input.gpu.vram } : {}) })}\n`);
    const committed = await readReply();
    if (typeof committed.root !== 'string') throw failure('sent no root');
    return {
      root: committed.root,
      backend: String(committed.backend ?? 'unknown'),
      computeMs: Number(committed.computeMs ?? 0),
      open: (entries) => ask<Opening>({ samples: entries }, 'openings', 'sent no openings'),
      lookup: (words) => ask<number>({ vram: words }, 'vram', 'sent no VRAM words'),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
