// GPU challenge costs (src/domain/challenge.ts, src/domain/vram.ts): the coordinator's CPU to check one GPU's answer
// (openings + VRAM words), the CPU stand-in's run time (what `provide --simulate-gpus` computes per simulated GPU), and
// the challenge kernel's run time with numpy (src/provider/challenge-kernel/kernel.py; skipped without python3 + numpy).
// - Stand-in: solved for real, then the full check (40 openings) timed.
// - Real-GPU parameters (H100-sized: k = 12 288, ~10^8 leaves): no CPU can produce the answer, so the check is timed by
//   its parts, exactly as checkOpenings runs them per sample: the leaf hash, a Merkle path of the tree's depth, and the
//   entry recomputed from the seed (k seeded A values, k seeded B values, k multiply-adds).
// Usage: npm run build && node bench/challenge.mjs [rounds=20]
import { spawnSync } from 'node:child_process';
import { randomBytes, randomFillSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { checkOpenings, sampleEntries } from '../dist/src/domain/challenge.js';
import { expectedEntry, parseSeed } from '../dist/src/domain/challenge-matrices.js';
import { leafHash, verifyMerklePath } from '../dist/src/domain/challenge-merkle.js';
import { CPU_STAND_IN_PARAMS, leafCount } from '../dist/src/domain/challenge-params.js';
import { challengeOps, sizeChallenge } from '../dist/src/domain/challenge-sizing.js';
import { solveChallenge } from '../dist/src/domain/challenge-solver.js';
import { checkVramAnswers, CPU_STAND_IN_VRAM, fillVram, sampleVramQueries, vramWord } from '../dist/src/domain/vram.js';

const ROUNDS = Number(process.argv[2] ?? 20);
const cpuMs = (fn) => {
  const start = process.cpuUsage();
  const wall = performance.now();
  const value = fn();
  const used = process.cpuUsage(start);
  return { value, cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - wall };
};
const stats = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return `median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} ms, max ${sorted.at(-1).toFixed(2)} ms`;
};

// Stand-in: solve + check.
const solveTimes = [];
const checkTimes = [];
for (let round = 0; round < ROUNDS; round++) {
  const seed = randomBytes(16).toString('hex');
  const solved = cpuMs(() => solveChallenge(seed, CPU_STAND_IN_PARAMS));
  solveTimes.push(solved.wallMs);
  const samples = sampleEntries(CPU_STAND_IN_PARAMS, randomFillSync(new Uint32Array(2 * CPU_STAND_IN_PARAMS.samples)));
  const openings = solved.value.open(samples);
  const checked = cpuMs(() => checkOpenings(seed, CPU_STAND_IN_PARAMS, solved.value.root, samples, openings));
  if (!checked.value.ok) throw new Error(`stand-in check failed: ${checked.value.reason}`);
  checkTimes.push(checked.cpuMs);
}
const standIn = sizeChallenge('simulated', true, { allowanceMs: 5_000 });
console.log(`CPU stand-in ${JSON.stringify(CPU_STAND_IN_PARAMS)} (${(challengeOps(CPU_STAND_IN_PARAMS) / 1e6).toFixed(0)} M int ops, deadline ${standIn.deadlineMs} ms per GPU):`);
console.log(`  solve (one GPU, in-process): ${stats(solveTimes)}  → ${(challengeOps(CPU_STAND_IN_PARAMS) / (solveTimes.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)] * 1e3)).toFixed(0)} M ops/s`);
console.log(`  coordinator check (40 openings): CPU ${stats(checkTimes)}`);
{
  const seed = randomBytes(16).toString('hex');
  const filled = cpuMs(() => fillVram(seed, CPU_STAND_IN_VRAM));
  const times = [];
  for (let round = 0; round < ROUNDS; round++) {
    const queries = sampleVramQueries(CPU_STAND_IN_VRAM, randomFillSync(new Uint32Array(2 * CPU_STAND_IN_VRAM.queries)));
    const run = cpuMs(() => checkVramAnswers(seed, CPU_STAND_IN_VRAM, queries, queries.map((q) => filled.value[q])));
    if (!run.value.ok) throw new Error(run.value.reason);
    times.push(run.cpuMs);
  }
  console.log(`  VRAM round: fill ${CPU_STAND_IN_VRAM.words * 4 / 2 ** 20} MiB in ${filled.wallMs.toFixed(0)} ms; coordinator check (${CPU_STAND_IN_VRAM.queries} words): CPU ${stats(times)}`);
}

// Real-GPU parameters: the check's parts per sample.
for (const model of ['NVIDIA H100 SXM5 80GB', 'NVIDIA GeForce RTX 4090']) {
  const sized = sizeChallenge(model, false, { allowanceMs: 5_000 });
  const p = sized.params;
  const depth = Math.ceil(Math.log2(leafCount(p)));
  const seed = parseSeed(randomBytes(16).toString('hex'));
  const times = [];
  for (let round = 0; round < ROUNDS; round++) {
    const samples = sampleEntries(p, randomFillSync(new Uint32Array(2 * p.samples)));
    const fakePath = Array.from({ length: depth }, () => randomBytes(32).toString('base64'));
    const leafValues = Array.from({ length: p.leafEntries }, (_, i) => i * 7919 - 100_000);
    const root = randomBytes(32);
    const run = cpuMs(() => {
      let sink = 0;
      for (const entry of samples) {
        const leafIndex = Math.floor(entry / p.leafEntries);
        // Same work as checkOpenings: hash the leaf, walk the full path (the root comparison fails only at the end).
        verifyMerklePath(root, leafCount(p), leafIndex, leafHash(leafIndex, leafValues), fakePath);
        sink += expectedEntry(seed, p, entry);
      }
      return sink;
    });
    times.push(run.cpuMs);
  }
  // The VRAM words: each recomputed from the seed, as checkVramAnswers does (answers right, so every word is checked).
  const vramTimes = [];
  const seedHex = randomBytes(16).toString('hex');
  const vramSeed = parseSeed(seedHex);
  for (let round = 0; round < ROUNDS; round++) {
    const queries = sampleVramQueries(sized.vram, randomFillSync(new Uint32Array(2 * sized.vram.queries)));
    const answers = queries.map((q) => vramWord(vramSeed, q, sized.vram.rounds));
    vramTimes.push(cpuMs(() => checkVramAnswers(seedHex, sized.vram, queries, answers)).cpuMs);
  }
  console.log(`${model}: ${JSON.stringify(p)} (${(challengeOps(p) / 1e12).toFixed(1)} T int ops, deadline ${sized.deadlineMs} ms, tree depth ${depth}):`);
  console.log(`  coordinator check (${p.samples} samples): CPU ${stats(times)}`);
  console.log(`  VRAM round: ${(sized.vram.words * 4 / 2 ** 30).toFixed(1)} GiB of words; check (${sized.vram.queries} words): CPU ${stats(vramTimes)}`);
  const entries = p.batches * p.n * p.n;
  const expectedMs = (sized.deadlineMs - 5_000) / 1.25;
  console.log(`  leaves to hash: ${(entries * 4 / 1e9).toFixed(0)} GB (${((entries * 4) / 1e9 / (expectedMs / 1e3)).toFixed(0)} GB/s at the model's expected rate): on the GPU; one CPU core hashes ~0.7 GB/s of leaves`);
}

// The kernel with numpy (the path a rig without PyTorch/CUDA takes; the real GPU path needs the image and a GPU).
const kernel = fileURLToPath(new URL('../src/provider/challenge-kernel/kernel.py', import.meta.url));
if (spawnSync('python3', ['-c', 'import numpy']).status === 0) {
  const runs = [];
  for (let round = 0; round < Math.min(ROUNDS, 5); round++) {
    const seed = randomBytes(16).toString('hex');
    const samples = sampleEntries(CPU_STAND_IN_PARAMS, randomFillSync(new Uint32Array(2 * CPU_STAND_IN_PARAMS.samples)));
    const queries = sampleVramQueries(CPU_STAND_IN_VRAM, randomFillSync(new Uint32Array(2 * CPU_STAND_IN_VRAM.queries)));
    const input = [{ seed, params: CPU_STAND_IN_PARAMS, vram: CPU_STAND_IN_VRAM }, { vram: queries }, { samples }].map((l) => JSON.stringify(l)).join('\n') + '\n';
    const started = performance.now();
    const result = spawnSync('python3', [kernel], { input, encoding: 'utf8' });
    const wallMs = performance.now() - started;
    const [committed, words, opened] = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const ok = checkOpenings(seed, CPU_STAND_IN_PARAMS, committed.root, samples, opened.openings).ok && checkVramAnswers(seed, CPU_STAND_IN_VRAM, queries, words.vram).ok;
    if (!ok) throw new Error('the kernel answer did not check');
    runs.push({ wallMs, computeMs: committed.computeMs });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`challenge kernel (numpy, stand-in parameters + ${CPU_STAND_IN_VRAM.words * 4 / 2 ** 20} MiB VRAM table, ${runs.length} runs): commit ${median(runs.map((r) => r.computeMs))} ms, whole process ${median(runs.map((r) => r.wallMs)).toFixed(0)} ms (median; includes Python + numpy start-up)`);
} else {
  console.log('challenge kernel: skipped (python3 with numpy not found)');
}
