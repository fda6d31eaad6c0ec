// Answers the coordinator's GPU challenges (src/domain/challenge.ts): compute, commit the roots, open the sampled entries.
// Simulated GPUs answer with the CPU stand-in, in-process in Node (labelled 'cpu-stand-in' by the coordinator): the
// busybox-style images this project can build offline cannot compute matrices, and the stand-in must not touch GPUs.
// Real GPUs answer with the challenge kernel (src/provider/challenge-kernel.ts): an int8 GEMM + Merkle program run in a
// locked-down container limited to the challenged GPU. An agent without one leaves a real GPU's challenge to expire and says why.
import type { ChallengeOffer, ChallengeResult } from '../api/schemas/provider-trust.js';
import type { Opening } from '../domain/challenge.js';
import { solveChallenge } from '../domain/challenge-solver.js';
import { fillVram } from '../domain/vram.js';
import { errorText, type AgentSession } from './agent-session.js';
import type { ProviderApi } from './agent-types.js';
import { runChallengeKernel, type ChallengeKernelOptions } from './challenge-kernel.js';
import type { KernelImageStep } from './challenge-kernel-image.js';

/** One GPU's computed part: its root, the openings on demand, and what to release afterwards (a kernel container). */
export interface ComputedPart {
  root: string;
  open(entries: readonly number[]): Opening[] | Promise<Opening[]>;
  /** The queried words of the filled VRAM table (GPUs with a VRAM round). */
  lookup?(words: readonly number[]): number[] | Promise<number[]>;
  close?(): Promise<void>;
}

export type GpuSolver = (gpu: ChallengeOffer['gpus'][number], context: { challengeId: string; signal: AbortSignal }) => Promise<ComputedPart>;

export interface ChallengeResponder {
  /** Start answering `offer` unless it is being (or was) answered already. */
  offer(offer: ChallengeOffer): void;
  /** Wait for answers in flight (drain, tests). */
  idle(): Promise<void>;
}

/** The CPU stand-in: yields to the event loop between GPUs so heartbeats keep going; fills its small VRAM table in-process. */
export const cpuStandIn: GpuSolver = async (gpu) => {
  await new Promise((resolve) => setImmediate(resolve));
  const table = gpu.vram ? fillVram(gpu.seed, gpu.vram) : undefined;
  const solved = solveChallenge(gpu.seed, gpu.params);
  return { root: solved.root, open: solved.open, ...(table ? { lookup: (words: readonly number[]) => words.map((w) => table[w] ?? 0) } : {}) };
};

/** The challenge kernel in a container per GPU, for real GPUs. */
export function kernelSolver(options: ChallengeKernelOptions, nodeId: string): GpuSolver {
  return (gpu, context) => runChallengeKernel(options, { nodeId, challengeId: context.challengeId, gpu, signal: context.signal });
}

/** Compute every GPU's part, commit, open the samples; the coordinator's verdict. Throws on API failures. */
export async function answerChallengeOffer(
  api: Pick<Required<ProviderApi>, 'commitChallenge' | 'answerChallenge'>,
  nodeId: string,
  offer: ChallengeOffer,
  solvers: { standIn: GpuSolver; gpu?: GpuSolver },
  signal: AbortSignal,
): Promise<ChallengeResult | { state: 'expired'; detail: string }> {
  const solved = new Map<string, ComputedPart>();
  // One GPU failing stops the others' kernels too (their containers are removed), instead of leaving them running.
  const parts = new AbortController();
  let firstFailure: { error: unknown } | undefined;
  const stopParts = () => parts.abort();
  signal.addEventListener('abort', stopParts, { once: true });
  try {
    // GPUs answer in parallel on a rig (one container each); the in-process stand-in runs them one after another.
    const settled = await Promise.allSettled(
      offer.gpus.map(async (gpu) => {
        try {
          const solver = gpu.kind === 'cpu-stand-in' ? solvers.standIn : solvers.gpu;
          if (!solver) throw new Error(`no GPU challenge kernel is available to this agent for ${gpu.uuid} (${gpu.model})`);
          solved.set(gpu.uuid, await solver(gpu, { challengeId: offer.id, signal: parts.signal }));
        } catch (error) {
          firstFailure ??= { error };
          parts.abort();
          throw error;
        }
      }),
    );
    // The GPU that failed first is the cause; the others' kernels were cancelled because of it.
    if (firstFailure) throw firstFailure.error;
    if (settled.some((result) => result.status === 'rejected')) throw new Error('Bug: a GPU part failed without a cause');
    const roots = Object.fromEntries([...solved].map(([uuid, s]) => [uuid, s.root]));
    const drawn = await api.commitChallenge(nodeId, offer.id, { roots }, { signal });
    if (drawn.state === 'expired') return { state: 'expired', detail: 'the commitment arrived after the deadline' };
    // The VRAM words first and alongside the openings: the VRAM window is the short one.
    const vramQueries = Object.entries(drawn.vram ?? {});
    const [vram, openings] = await Promise.all([
      Promise.all(vramQueries.map(async ([uuid, words]) => {
        const part = solved.get(uuid);
        if (!part?.lookup) throw new Error(`no VRAM table was filled for ${uuid}`);
        return [uuid, await part.lookup(words)] as const;
      })),
      Promise.all([...solved].map(async ([uuid, s]) => [uuid, await s.open(drawn.samples[uuid] ?? [])] as const)),
    ]);
    return await api.answerChallenge(nodeId, offer.id, { openings: Object.fromEntries(openings), ...(vram.length > 0 ? { vram: Object.fromEntries(vram) } : {}) }, { signal });
  } finally {
    signal.removeEventListener('abort', stopParts);
    await Promise.all([...solved.values()].map((s) => s.close?.()));
  }
}

export function createChallengeResponder(session: AgentSession, input: { api: ProviderApi; nodeId: string; kernel?: ChallengeKernelOptions }): ChallengeResponder {
  // A missing kernel image is pulled or built on the first challenge (minutes on a rig): the log says which and when done.
  const kernel = input.kernel && { ...input.kernel, onImageStep: (step: KernelImageStep) => { input.kernel?.onImageStep?.(step); session.emit({ type: 'kernel-image', ...step }); } };
  const solveGpu = kernel ? kernelSolver(kernel, input.nodeId) : undefined;
  const seen = new Set<string>();
  const running = new Set<Promise<void>>();
  return {
    offer(offer) {
      if (seen.has(offer.id)) return;
      seen.add(offer.id);
      const { api } = input;
      if (!api.commitChallenge || !api.answerChallenge) return;
      const started = session.now();
      session.emit({ type: 'challenge', id: offer.id, state: 'started', kind: offer.gpus.some((g) => g.kind === 'gpu') ? 'gpu' : 'cpu-stand-in', gpus: offer.gpus.length });
      const run = answerChallengeOffer({ commitChallenge: api.commitChallenge, answerChallenge: api.answerChallenge }, input.nodeId, offer, { standIn: cpuStandIn, gpu: solveGpu }, session.workController.signal)
        .then((result) => {
          session.emit({ type: 'challenge', id: offer.id, state: result.state, ms: session.now() - started, ...(result.detail ? { detail: result.detail } : {}) });
        })
        .catch((error) => {
          // A lease overtook a random challenge: the coordinator cancelled it (it counts neither way).
          const cancelled = (error as { code?: unknown }).code === 'CHALLENGE_CANCELLED';
          session.emit({ type: 'challenge', id: offer.id, state: cancelled ? 'cancelled' : 'error', ms: session.now() - started, detail: errorText(error) });
        })
        .finally(() => running.delete(run));
      running.add(run);
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
