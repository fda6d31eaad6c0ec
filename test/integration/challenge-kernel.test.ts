// The real-GPU challenge kernel (src/provider/challenge-kernel/kernel.py) with numpy, against the TypeScript solver and
// the coordinator's checker; then the agent's real-GPU path end to end: the kernel in its locked-down container (an image
// built offline from the host's python3 + numpy), answering a challenge the coordinator issued through the real API.
// Only --gpus is off (no NVIDIA runtime here); everything the kernel answers is computed.
import { randomBytes, randomFillSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_CHALLENGE } from '../../src/domain/challenge-kernel-args.js';
import { checkOpenings, sampleEntries, solveChallenge, totalEntries, type ChallengeParams } from '../../src/domain/challenge.js';
import type { AgentEvent } from '../../src/provider/agent.js';
import { startTestAgent } from '../support/agent.js';
import { newKeypair, startTestCoordinator } from '../support/coordinator.js';
import { docker } from '../support/docker.js';
import { buildKernelImage, kernelUnavailable, runKernelOnHost, type KernelImage } from '../support/kernel-image.js';
import { waitFor } from '../support/wait.js';

const unavailable = await kernelUnavailable();
if (unavailable) console.warn(`challenge kernel tests skipped: ${unavailable}`);

const CASES: Array<[string, ChallengeParams, string[]]> = [
  ['the CPU stand-in sizing', { n: 128, k: 512, batches: 2, leafEntries: 16, samples: 40 }, []],
  ['the same, hashed by the vectorised SHA-256 the GPU runs', { n: 128, k: 512, batches: 2, leafEntries: 16, samples: 40 }, ['--vector-hash']],
  ['an odd k and 3 batches (a tree with odd levels)', { n: 64, k: 333, batches: 3, leafEntries: 32, samples: 12 }, ['--vector-hash']],
  ['leaves per batch not a power of two (one global tree)', { n: 48, k: 7, batches: 3, leafEntries: 16, samples: 20 }, []],
  ['the real-GPU shape, scaled down (k = 32 768)', { n: 64, k: 32_768, batches: 2, leafEntries: 64, samples: 40 }, ['--vector-hash']],
];

describe.skipIf(Boolean(unavailable))('kernel.py (numpy) against src/domain/challenge.ts', () => {
  it.each(CASES)('%s: same root, openings the coordinator accepts', async (_name, params, args) => {
    for (let round = 0; round < 2; round++) {
      const seed = randomBytes(16).toString('hex');
      const samples = sampleEntries(params, randomFillSync(new Uint32Array(2 * params.samples)));
      samples[0] = totalEntries(params) - 1; // the last entry too
      const { code, replies, stderr } = await runKernelOnHost([{ seed, params }, { samples }], args);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const [committed, opened] = replies as [{ root: string; backend: string }, { openings: never[] }];
      expect(committed.backend).toBe('numpy');
      expect(committed.root).toBe(solveChallenge(seed, params).root);
      expect(checkOpenings(seed, params, committed.root, samples, opened.openings)).toEqual({ ok: true });
      // The same openings under another seed's root are refused: the root binds the seed's product.
      expect(checkOpenings(randomBytes(16).toString('hex'), params, committed.root, samples, opened.openings).ok).toBe(false);
    }
  });

  it.each([
    ['a malformed seed', { seed: 'XYZ', params: { n: 16, k: 8, batches: 1, leafEntries: 16, samples: 1 } }, /seed/],
    ['parameters the coordinator never issues', { seed: '0'.repeat(32), params: { n: 16, k: 200_000, batches: 1, leafEntries: 16, samples: 1 } }, /parameters/],
  ])('answers %s with one error line and exit status 1', async (_name, request, message) => {
    const { code, replies } = await runKernelOnHost([request]);
    expect(code).toBe(1);
    expect(replies).toEqual([{ error: expect.stringMatching(message) }]);
  });
});

describe.skipIf(Boolean(unavailable))('the agent answers a real-GPU challenge with the kernel in its container', () => {
  let image: KernelImage;
  beforeAll(async () => {
    image = await buildKernelImage(`t${process.pid}-${Date.now()}`);
  }, 180_000);
  afterAll(async () => {
    await image?.dispose();
  });

  it('passes through the real API, one locked-down container per GPU, removed afterwards', async () => {
    // A production coordinator; the test-only work scale gives the "RTX 4090" the stand-in's shape so numpy finishes in time.
    const coord = await startTestCoordinator('sqlite', { dev: false, heartbeatGraceMs: 60_000, challenges: { workScale: 1e-9, allowanceMs: 30_000, answerWindowMs: 20_000, perDay: 4 } });
    const dataDir = await mkdtemp(join(tmpdir(), 'iocli-kernel-agent-'));
    const controller = new AbortController();
    const events: AgentEvent[] = [];
    const owner = newKeypair();
    const machineId = `kernel-agent-${process.pid}`;
    const gpus = [0, 1].map((index) => ({ index, uuid: `GPU-${machineId}-${index}`, model: 'NVIDIA GeForce RTX 4090', vramMb: 24_576 }));
    let nodeId: string | undefined;
    const agent = startTestAgent({
      api: coord.client(owner),
      machineId,
      simulate: '2:RTX4090',
      registration: { simulated: false, gpus },
      challengeKernel: { image: image.ref, gpuFlag: false, memoryBytes: 512 * 1024 * 1024 },
      dataDir,
      signal: controller.signal,
      events,
      onNodeId: (id) => (nodeId = id),
      longPollMs: 0,
    });
    try {
      const verdict = await waitFor('the challenge verdict', async () => events.find((e) => e.type === 'challenge' && e.state !== 'started'), { timeoutMs: 90_000 });
      expect(verdict).toMatchObject({ type: 'challenge', state: 'passed' });
      expect(events.find((e) => e.type === 'challenge' && e.state === 'started')).toMatchObject({ kind: 'gpu', gpus: 2 });
      const why = await coord.client(owner).nodeWhy(nodeId!);
      expect(why.challenges[0]).toMatchObject({ state: 'passed', kind: 'gpu', reason: 'registration', gpus: gpus.map((g) => g.uuid) });
      expect((await coord.client(owner).node(nodeId!)).verified).toBe(true);
      const left = await docker(['ps', '-aq', '--filter', `label=${LABEL_CHALLENGE}=${why.challenges[0]!.id}`]);
      expect(left.stdout.trim()).toBe('');
    } finally {
      controller.abort();
      await agent.catch(() => undefined);
      await coord.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
