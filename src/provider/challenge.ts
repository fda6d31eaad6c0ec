// Answers the coordinator's GPU challenges (src/domain/challenge.ts): compute, commit the roots, open the sampled entries.
// Simulated GPUs answer with the CPU stand-in, in-process in Node (labelled 'cpu-stand-in' by the coordinator): the
// busybox-style images this project can build offline cannot compute matrices, and the stand-in must not touch GPUs.
// Real GPUs need the challenge kernel (an int8 GEMM + Merkle image run with only the challenged GPUs); `solveGpu` plugs
// it in. Without it a real GPU's challenge is left to expire and the agent says why.
import type { ChallengeOffer, ChallengeResult } from '../api/schemas.js';
import { solveChallenge, type SolvedChallenge } from '../domain/challenge.js';
import { errorText, type AgentSession } from './agent-session.js';
import type { ProviderApi } from './agent-types.js';

export type GpuSolver = (gpu: ChallengeOffer['gpus'][number], signal: AbortSignal) => Promise<SolvedChallenge>;

export interface ChallengeResponder {
  /** Start answering `offer` unless it is being (or was) answered already. */
  offer(offer: ChallengeOffer): void;
  /** Wait for answers in flight (drain, tests). */
  idle(): Promise<void>;
}

/** The CPU stand-in: yields to the event loop between GPUs so heartbeats keep going. */
export const cpuStandIn: GpuSolver = async (gpu) => {
  await new Promise((resolve) => setImmediate(resolve));
  return solveChallenge(gpu.seed, gpu.params);
};

/** Compute every GPU's part, commit, open the samples; the coordinator's verdict. Throws on API failures. */
export async function answerChallengeOffer(
  api: Pick<Required<ProviderApi>, 'commitChallenge' | 'answerChallenge'>,
  nodeId: string,
  offer: ChallengeOffer,
  solvers: { standIn: GpuSolver; gpu?: GpuSolver },
  signal: AbortSignal,
): Promise<ChallengeResult | { state: 'expired'; detail: string }> {
  const solved = new Map<string, SolvedChallenge>();
  // GPUs answer in parallel on a rig (one container each); the in-process stand-in runs them one after another.
  await Promise.all(
    offer.gpus.map(async (gpu) => {
      const solver = gpu.kind === 'cpu-stand-in' ? solvers.standIn : solvers.gpu;
      if (!solver) throw new Error(`no GPU challenge kernel is available to this agent for ${gpu.uuid} (${gpu.model})`);
      solved.set(gpu.uuid, await solver(gpu, signal));
    }),
  );
  const roots = Object.fromEntries([...solved].map(([uuid, s]) => [uuid, s.root]));
  const drawn = await api.commitChallenge(nodeId, offer.id, { roots }, { signal });
  if (drawn.state === 'expired') return { state: 'expired', detail: 'the commitment arrived after the deadline' };
  const openings = Object.fromEntries([...solved].map(([uuid, s]) => [uuid, s.open(drawn.samples[uuid] ?? [])]));
  return api.answerChallenge(nodeId, offer.id, { openings }, { signal });
}

export function createChallengeResponder(session: AgentSession, input: { api: ProviderApi; nodeId: string; solveGpu?: GpuSolver }): ChallengeResponder {
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
      const run = answerChallengeOffer({ commitChallenge: api.commitChallenge, answerChallenge: api.answerChallenge }, input.nodeId, offer, { standIn: cpuStandIn, gpu: input.solveGpu }, session.workController.signal)
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
