// The real-GPU challenge kernel (src/provider/challenge-kernel/kernel.py) with numpy, against the TypeScript solver and
// the coordinator's checker; then the agent's real-GPU path end to end: the kernel in its locked-down container (an image
// built offline from the host's python3 + numpy), answering a challenge the coordinator issued through the real API.
// Only --gpus is off (no NVIDIA runtime here); everything the kernel answers is computed.
import { execFile } from 'node:child_process';
import { randomBytes, randomFillSync } from 'node:crypto';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_CHALLENGE } from '../../src/domain/challenge-kernel-args.js';
import { checkOpenings, sampleEntries } from '../../src/domain/challenge.js';
import { parseSeed } from '../../src/domain/challenge-matrices.js';
import { totalEntries, type ChallengeParams } from '../../src/domain/challenge-params.js';
import { solveChallenge } from '../../src/domain/challenge-solver.js';
import { checkVramAnswers, sampleVramQueries, vramWord } from '../../src/domain/vram.js';
import type { AgentEvent } from '../../src/provider/agent.js';
import { runChallengeKernel, type ChallengeKernelOptions } from '../../src/provider/challenge-kernel.js';
import { startTestAgent } from '../support/agent.js';
import { newKeypair, startTestCoordinator } from '../support/coordinator.js';
import { docker } from '../support/docker.js';
import { buildKernelImage, KERNEL_SCRIPT, kernelUnavailable, runKernelOnHost, type KernelImage } from '../support/kernel-image.js';
import { waitFor } from '../support/wait.js';

const unavailable = await kernelUnavailable();
const gccAvailable = await new Promise<boolean>((resolve) => execFile('gcc', ['--version'], (error) => resolve(!error)));
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

  it('fills the VRAM table and answers its words as src/domain/vram.ts computes them (past 2^32 too)', async () => {
    const seed = randomBytes(16).toString('hex');
    const vram = { words: 1_000_003, rounds: 16, queries: 64 };
    const queries = sampleVramQueries(vram, randomFillSync(new Uint32Array(2 * vram.queries)));
    queries[0] = vram.words - 1;
    const params = { n: 16, k: 8, batches: 1, leafEntries: 16, samples: 1 };
    const { code, replies } = await runKernelOnHost([{ seed, params, vram }, { vram: queries }, { samples: [0] }, { vram: [0] }]);
    expect(code).toBe(0);
    expect(replies).toHaveLength(4);
    expect(checkVramAnswers(seed, vram, queries, replies[1]!.vram as number[])).toEqual({ ok: true });
    expect(replies[3]!.vram).toEqual([vramWord(parseSeed(seed), 0, 16)]);
    // Words past 2^32 (tables over 16 GiB): the kernel's word function against vramWord.
    const far = [2 ** 32, 2 ** 33 + 5, Math.floor(0.9 * 141 * 2 ** 28) - 1];
    const script = `import sys; sys.path.insert(0, sys.argv[1]); import kernel; be = kernel.Backend('numpy'); s = kernel.parse_seed(sys.argv[2]); print([int(kernel.vram_words(be, s, i, 1, 16)[0]) for i in ${JSON.stringify(far)}])`;
    const printed = await new Promise<string>((resolve, reject) => execFile('python3', ['-c', script, dirname(KERNEL_SCRIPT), seed], (error, stdout) => (error ? reject(error) : resolve(stdout))));
    expect(JSON.parse(printed)).toEqual(far.map((i) => vramWord(parseSeed(seed), i, 16)));
    // A word outside the table is an error, not a guess.
    const outside = await runKernelOnHost([{ seed, params, vram }, { vram: [vram.words] }]);
    expect(outside.code).toBe(1);
    expect(outside.replies.at(-1)).toEqual({ error: expect.stringMatching(/inside the table/) });
  });

  it('generates the seeded matrices in row chunks (the GPU path) exactly as in one piece', async () => {
    const script = [
      'import sys; sys.path.insert(0, sys.argv[1]); import kernel, numpy as np',
      'be = kernel.Backend("numpy"); seed = kernel.parse_seed("0123456789abcdef0123456789abcdef")',
      'whole = kernel.seeded_matrix(be, seed, 3, 1, 100, 333)',
      'kernel.ROW_CHUNK_LANES = 1000',
      'print(bool(np.array_equal(whole, kernel.seeded_matrix(be, seed, 3, 1, 100, 333))), whole.shape == (100, 333))',
    ].join('\n');
    const printed = await new Promise<string>((resolve, reject) => execFile('python3', ['-c', script, dirname(KERNEL_SCRIPT)], (error, stdout, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve(stdout))));
    expect(printed.trim()).toBe('True True');
  });

  it.skipIf(!gccAvailable)('the fused CUDA SHA-256 (one thread per leaf), compiled as C here, equals hashlib for every message length the tree uses', async () => {
    // The GPU path hashes leaves (5 + 4·leafEntries bytes) and inner nodes (65 bytes) with this source; no GPU here, so
    // the same source is built with gcc and compared; the launch through CuPy is what only a rig can run.
    const script = [
      'import ctypes, hashlib, os, subprocess, sys, tempfile',
      'sys.path.insert(0, sys.argv[1]); import kernel',
      'd = tempfile.mkdtemp(); src = os.path.join(d, "sha.c"); lib = os.path.join(d, "sha.so")',
      'open(src, "w").write(kernel.SHA256_SOURCE)',
      'subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-DIOCLI_HOST", "-o", lib, src], check=True)',
      'so = ctypes.CDLL(lib); bad = []',
      'for length in [0, 55, 56, 64, 65, 69, 261, 1029, 16389]:',
      '    rows = 40; data = os.urandom(rows * length); out = ctypes.create_string_buffer(rows * 32)',
      '    so.sha256_rows_host(data, ctypes.c_uint(length), ctypes.c_uint(rows), out)',
      '    bad += [length for i in range(rows) if out.raw[i*32:(i+1)*32] != hashlib.sha256(data[i*length:(i+1)*length]).digest()]',
      'import shutil; shutil.rmtree(d); print(sorted(set(bad)))',
    ].join('\n');
    const printed = await new Promise<string>((resolve, reject) => execFile('python3', ['-c', script, dirname(KERNEL_SCRIPT)], (error, stdout, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve(stdout))));
    expect(JSON.parse(printed)).toEqual([]);
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

  const runAgent = async (
    name: string,
    challenges: Record<string, number>,
    kernelMemoryBytes: number,
    until: (events: AgentEvent[]) => AgentEvent | undefined,
    kernel: Partial<ChallengeKernelOptions> = {},
  ) => {
    const coord = await startTestCoordinator('sqlite', { dev: false, heartbeatGraceMs: 60_000, challenges: { allowanceMs: 30_000, answerWindowMs: 20_000, vramWindowMs: 20_000, perDay: 4, ...challenges } });
    const dataDir = await mkdtemp(join(tmpdir(), 'iocli-kernel-agent-'));
    const controller = new AbortController();
    const events: AgentEvent[] = [];
    const owner = newKeypair();
    const machineId = `kernel-${name}-${process.pid}`;
    const gpus = [0, 1].map((index) => ({ index, uuid: `GPU-${machineId}-${index}`, model: 'NVIDIA GeForce RTX 4090', vramMb: 24_576 }));
    let nodeId: string | undefined;
    const agent = startTestAgent({
      api: coord.client(owner),
      machineId,
      simulate: '2:RTX4090',
      registration: { simulated: false, gpus },
      challengeKernel: { image: image.ref, gpuFlag: false, memoryBytes: kernelMemoryBytes, ...kernel },
      dataDir,
      signal: controller.signal,
      events,
      onNodeId: (id) => (nodeId = id),
      longPollMs: 0,
    });
    try {
      const verdict = await waitFor('the challenge verdict', async () => until(events), { timeoutMs: 90_000 });
      const why = await coord.client(owner).nodeWhy(nodeId!);
      const verified = (await coord.client(owner).node(nodeId!)).verified;
      return { verdict, events, why, verified, gpus };
    } finally {
      controller.abort();
      await agent.catch(() => undefined);
      await coord.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  };

  it('passes through the real API, one locked-down container per GPU, removed afterwards', async () => {
    // A production coordinator; the test-only work scale gives the "RTX 4090" the stand-in's shape (and 2 MiB of VRAM
    // words) so numpy finishes in time.
    const { verdict, events, why, verified, gpus } = await runAgent('pass', { workScale: 1e-9 }, 512 * 1024 * 1024, (all) => all.find((e) => e.type === 'challenge' && e.state !== 'started'));
    expect(verdict).toMatchObject({ type: 'challenge', state: 'passed' });
    expect(events.find((e) => e.type === 'challenge' && e.state === 'started')).toMatchObject({ kind: 'gpu', gpus: 2 });
    expect(why.challenges[0]).toMatchObject({ state: 'passed', kind: 'gpu', reason: 'registration', gpus: gpus.map((g) => g.uuid) });
    expect(verified).toBe(true);
    const left = await docker(['ps', '-aq', '--filter', `label=${LABEL_CHALLENGE}=${why.challenges[0]!.id}`]);
    expect(left.stdout.trim()).toBe('');
  }, 180_000);

  it('builds a missing kernel image it cannot pull (a registry on a closed loopback port), then answers with it', async () => {
    // The shipped Dockerfile's shape on an offline base: FROM a local image, COPY the shipped kernel.py (legacy builder:
    // no registry is asked). The image name is unpullable, so the agent's path is inspect → pull fails → build → run.
    const gpu = { uuid: 'GPU-build-test-0', model: 'NVIDIA GeForce RTX 4090', kind: 'gpu' as const, params: { n: 16, k: 8, batches: 1, leafEntries: 16, samples: 1 }, seed: '1'.repeat(32), deadlineMs: 1_000 };
    const buildContext = await mkdtemp(join(tmpdir(), 'iocli-kernel-context-'));
    const built = `127.0.0.1:1/iocli-test/kernel-built:${process.pid}-${Date.now()}`;
    const steps: string[] = [];
    try {
      await copyFile(KERNEL_SCRIPT, join(buildContext, 'kernel.py'));
      await writeFile(join(buildContext, 'Dockerfile'), `FROM ${image.ref}\nCOPY kernel.py /opt/iocli/kernel.py\nUSER 65534:65534\n`);
      const options = { image: built, gpuFlag: false, memoryBytes: 256 * 1024 * 1024, buildContext, dockerEnv: { DOCKER_BUILDKIT: '0' }, onImageStep: (step: { state: string }) => steps.push(step.state) };
      const answer = await runChallengeKernel(options, { nodeId: 'node_build', challengeId: 'chal_build', gpu, signal: new AbortController().signal });
      try {
        expect(answer.root).toBe(solveChallenge(gpu.seed, gpu.params).root);
      } finally {
        await answer.close();
      }
      expect(steps).toEqual(['pulling', 'building', 'build-progress', 'build-progress', 'build-progress', 'ready']);
    } finally {
      await docker(['image', 'rm', '-f', built]);
      await rm(buildContext, { recursive: true, force: true });
    }
  }, 120_000);

  it('an agent whose kernel image is missing builds it on the first challenge, logs each step, and passes', async () => {
    const buildContext = await mkdtemp(join(tmpdir(), 'iocli-kernel-context-'));
    const built = `127.0.0.1:1/iocli-test/kernel-agent-built:${process.pid}-${Date.now()}`;
    try {
      await copyFile(KERNEL_SCRIPT, join(buildContext, 'kernel.py'));
      await writeFile(join(buildContext, 'Dockerfile'), `FROM ${image.ref}\nCOPY kernel.py /opt/iocli/kernel.py\n`);
      const { verdict, events, verified } = await runAgent('build', { workScale: 1e-9 }, 512 * 1024 * 1024, (all) => all.find((e) => e.type === 'challenge' && e.state !== 'started'), {
        image: built,
        buildContext,
        dockerEnv: { DOCKER_BUILDKIT: '0' },
      });
      expect(verdict).toMatchObject({ type: 'challenge', state: 'passed' });
      expect(verified).toBe(true);
      // Two GPUs, one pull and one build between them.
      const steps = events.filter((e) => e.type === 'kernel-image').map((e) => (e as { state: string }).state);
      expect(steps.filter((s) => s !== 'build-progress')).toEqual(['pulling', 'building', 'ready']);
      expect(events.find((e) => e.type === 'kernel-image' && e.state === 'building')).toMatchObject({ context: buildContext, command: `docker build --force-rm -t ${built} ${buildContext}` });
    } finally {
      await docker(['image', 'rm', '-f', built]);
      await rm(buildContext, { recursive: true, force: true });
    }
  }, 180_000);

  it('a GPU with less memory than its model claims cannot fill the table and does not pass', async () => {
    // The table is 90% of 24 GB / 80 = 276 MB; the kernel's container (standing in for the GPU's memory) has 128 MiB.
    const { verdict, why, verified } = await runAgent('small', { workScale: 1e-9, vramScale: 1 / 80 }, 128 * 1024 * 1024, (all) => all.find((e) => e.type === 'challenge' && e.state !== 'started'));
    expect(verdict).toMatchObject({ type: 'challenge', state: 'error', detail: expect.stringMatching(/challenge kernel .* (exited|failed)/) });
    expect(why.challenges[0]).toMatchObject({ state: 'issued', kind: 'gpu' });
    expect(verified).toBe(false);
    const left = await docker(['ps', '-aq', '--filter', `label=${LABEL_CHALLENGE}=${why.challenges[0]!.id}`]);
    expect(left.stdout.trim()).toBe('');
  }, 180_000);
});
