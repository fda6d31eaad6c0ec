// The VRAM round through the real API (SQLite and PostgreSQL): the words are drawn at the commitment, must arrive
// within the short VRAM window, and must equal the words recomputed from the seed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChallengeOffer } from '../../src/api/schemas/provider-trust.js';
import { parseSeed } from '../../src/domain/challenge-matrices.js';
import { vramWord } from '../../src/domain/vram.js';
import { openChallenge, solveAs } from '../support/challenges.js';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

const VRAM_WINDOW_MS = 2_000;

describe.each(ENGINES)('GPU challenge VRAM round on %s', (engine) => {
  let prod: TestCoordinator;
  let clock = Date.now();

  beforeAll(async () => {
    // vramScale 1e-4: an H100's table is 1.9 M words (7.7 MB), an RTX 4090's 0.58 M, in the catalogue's ratio.
    prod = await startTestCoordinator(engine, {
      dev: false,
      now: () => clock,
      maxClockSkewMs: 10 * 86_400_000,
      sweepIntervalMs: 3_600_000,
      heartbeatGraceMs: 3_600_000,
      assignmentCacheMs: 0,
      challenges: { workScale: 1e-9, vramScale: 1e-4, allowanceMs: 1_500, answerWindowMs: 10_000, vramWindowMs: VRAM_WINDOW_MS, perDay: 4 },
    });
  });
  afterAll(async () => {
    await prod?.close();
  });

  const register = async (name: string, model: string) => {
    const client = prod.client(newKeypair());
    const node = await client.registerNode(nodeSpec({ machineId: `vram-${name}-${engine}-${process.pid}`, simulated: false, model, gpuCount: 1 }));
    return { client, node, offer: (await openChallenge(client, node.id))! };
  };

  /** Commit honestly, then answer the VRAM words as `words` maps them, after `lateMs` on the coordinator's clock. */
  const answer = async (r: Awaited<ReturnType<typeof register>>, words: (gpu: ChallengeOffer['gpus'][number], queries: number[]) => number[] | undefined, lateMs = 0) => {
    const solved = new Map(r.offer.gpus.map((gpu) => [gpu.uuid, solveAs('honest', gpu)]));
    const drawn = await r.client.commitChallenge(r.node.id, r.offer.id, { roots: Object.fromEntries([...solved].map(([uuid, s]) => [uuid, s.root])) });
    expect(drawn).toMatchObject({ state: 'committed', vram: expect.any(Object), vramAnswerBy: expect.any(String) });
    expect(Date.parse(drawn.vramAnswerBy!) - clock).toBe(VRAM_WINDOW_MS);
    clock += lateMs;
    const vram: Record<string, number[]> = {};
    for (const gpu of r.offer.gpus) {
      const answered = words(gpu, drawn.vram![gpu.uuid]!);
      if (answered) vram[gpu.uuid] = answered;
    }
    return r.client.answerChallenge(r.node.id, r.offer.id, { openings: Object.fromEntries([...solved].map(([uuid, s]) => [uuid, s.open(drawn.samples[uuid]!)])), vram });
  };
  const honestWords = (gpu: ChallengeOffer['gpus'][number], queries: number[]) => queries.map((q) => vramWord(parseSeed(gpu.seed), q, gpu.vram!.rounds));

  it('sizes the table from the claimed model, queries words across all of it, and passes the right words in time', async () => {
    const h100 = await register('h100', 'NVIDIA H100 SXM5 80GB');
    const rtx = await register('rtx', 'NVIDIA GeForce RTX 4090');
    const h100Words = h100.offer.gpus[0]!.vram!.words;
    expect(h100Words).toBe(Math.floor((0.9 * 80 * 2 ** 30 * 1e-4) / 4));
    expect(rtx.offer.gpus[0]!.vram!.words).toBe(Math.floor((0.9 * 24 * 2 ** 30 * 1e-4) / 4));
    let seen: number[] = [];
    const result = await answer(h100, (gpu, queries) => {
      seen = queries;
      return honestWords(gpu, queries);
    }, VRAM_WINDOW_MS - 1);
    expect(result).toMatchObject({ state: 'passed', kind: 'gpu' });
    expect(seen).toHaveLength(h100.offer.gpus[0]!.vram!.queries);
    expect(seen.every((q) => q >= 0 && q < h100Words)).toBe(true);
  });

  it.each([
    ['a wrong word', (gpu: ChallengeOffer['gpus'][number], queries: number[]) => honestWords(gpu, queries).map((w, i) => (i === 3 ? (w ^ 1) >>> 0 : w)), 0, 'failed', /VRAM word \d+ is wrong/],
    ['too few words', (gpu: ChallengeOffer['gpus'][number], queries: number[]) => honestWords(gpu, queries).slice(1), 0, 'failed', /expected 64 VRAM words, got 63/],
    ['no words (an agent from before the VRAM round: not slashed)', () => undefined, 0, 'expired', /no VRAM words were sent/],
    ['the words of a table smaller than claimed (indices wrapped)', (gpu: ChallengeOffer['gpus'][number], queries: number[]) => honestWords(gpu, queries.map((q) => q % 1024)), 0, 'failed', /VRAM word/],
    ['the right words after the VRAM window (recomputed, not resident)', honestWords, VRAM_WINDOW_MS + 1, 'expired', /VRAM window is 2000 ms/],
  ])('a node that sends %s does not pass', async (name, words, lateMs, state, detail) => {
    const r = await register(name.split(' ').slice(0, 3).join('-').replace(/[^a-z-]/g, ''), 'NVIDIA H100 SXM5 80GB');
    const result = await answer(r, words, lateMs);
    expect(result.state).toBe(state);
    expect(result.detail).toMatch(detail);
    expect((await r.client.node(r.node.id)).verified).toBe(false);
  });
});
