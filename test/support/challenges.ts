// Answers a node's open GPU challenge from a test, the honest way (the CPU solver) or a dishonest one.
import type { ApiClient } from '../../src/api/client.js';
import type { ChallengeOffer, ChallengeResult } from '../../src/api/schemas/provider-trust.js';
import { parseSeed } from '../../src/domain/challenge-matrices.js';
import { totalEntries } from '../../src/domain/challenge-params.js';
import { committedAnswers, solveChallenge, type SolvedChallenge } from '../../src/domain/challenge-solver.js';
import { vramWord } from '../../src/domain/vram.js';

/** The node's open challenge, as its heartbeat reply carries it (undefined: none). */
export async function openChallenge(client: ApiClient, nodeId: string): Promise<ChallengeOffer | undefined> {
  return (await client.heartbeat(nodeId, {})).challenge;
}

export type Strategy = 'honest' | 'wrong' | 'half';

/** How a test node computes one GPU's part: honestly, with every entry wrong, or only every other entry right. */
export function solveAs(strategy: Strategy, gpu: ChallengeOffer['gpus'][number]): SolvedChallenge {
  const honest = solveChallenge(gpu.seed, gpu.params);
  if (strategy === 'honest') return honest;
  const all = Array.from({ length: totalEntries(gpu.params) }, (_, i) => i);
  const table = Int32Array.from(honest.open(all).map((o) => o.leaf[o.entry % gpu.params.leafEntries]!));
  for (let i = 0; i < table.length; i++) if (strategy === 'wrong' || i % 2 === 1) table[i] = table[i]! + 1;
  return committedAnswers(table, gpu.params);
}

/** Answer the node's open challenge; `delayMs` waits before committing (a slow GPU). */
export async function answerChallenge(client: ApiClient, nodeId: string, options: { strategy?: Strategy; delayMs?: number; offer?: ChallengeOffer; vramOffset?: number } = {}): Promise<ChallengeResult | { state: 'expired' }> {
  const offer = options.offer ?? (await openChallenge(client, nodeId));
  if (!offer) throw new Error(`Node ${nodeId} has no open challenge.`);
  const solved = new Map(offer.gpus.map((gpu) => [gpu.uuid, solveAs(options.strategy ?? 'honest', gpu)]));
  if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
  const drawn = await client.commitChallenge(nodeId, offer.id, { roots: Object.fromEntries([...solved].map(([uuid, s]) => [uuid, s.root])) });
  if (drawn.state === 'expired') return { state: 'expired' };
  // The VRAM words recomputed from the seed (the coordinator's own check): a test client holds no table.
  const vram = Object.fromEntries(
    Object.entries(drawn.vram ?? {}).map(([uuid, words]) => {
      const gpu = offer.gpus.find((g) => g.uuid === uuid)!;
      const seed = parseSeed(gpu.seed);
      return [uuid, words.map((w) => (vramWord(seed, w, gpu.vram!.rounds) + (options.vramOffset ?? 0)) >>> 0)];
    }),
  );
  return client.answerChallenge(nodeId, offer.id, { openings: Object.fromEntries([...solved].map(([uuid, s]) => [uuid, s.open(drawn.samples[uuid]!)])), ...(drawn.vram ? { vram } : {}) });
}

/**
 * Bond every unbonded GPU of the node on a coordinator whose PaymentVerifier is a test stand-in: the 402 names the
 * amount and reference, the second request carries a "transaction" the stand-in accepts.
 */
export async function bondAll(client: ApiClient, nodeId: string, transaction = `bond-tx-${nodeId}-${Date.now()}`) {
  const asked = (await client.bond(nodeId, {}).catch((error: unknown) => error)) as { status?: number; details?: { amount: number; reference: string } };
  if (asked.status !== 402 || !asked.details) throw new Error(`Expected a 402 naming the bond amount, got ${JSON.stringify(asked)}`);
  const bond = await client.bond(nodeId, { reference: asked.details.reference, payment: { transaction } });
  return { amount: asked.details.amount, reference: asked.details.reference, bond };
}
