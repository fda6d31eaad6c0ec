// GPU challenge costs (src/domain/challenge.ts): the coordinator's CPU to check one GPU's answer, and the CPU stand-in's
// run time (what `provide --simulate-gpus` computes per simulated GPU).
// - Stand-in: solved for real, then the full check (40 openings) timed.
// - Real-GPU parameters (H100-sized: k = 12 288, ~10^8 leaves): no CPU can produce the answer, so the check is timed by
//   its parts, exactly as checkOpenings runs them per sample: the leaf hash, a Merkle path of the tree's depth, and the
//   entry recomputed from the seed (k seeded A values, k seeded B values, k multiply-adds).
// Usage: npm run build && node bench/challenge.mjs [rounds=20]
import { randomBytes, randomFillSync } from 'node:crypto';
import {
  challengeOps,
  checkOpenings,
  CPU_STAND_IN_PARAMS,
  expectedEntry,
  leafCount,
  leafHash,
  parseSeed,
  sampleEntries,
  sizeChallenge,
  solveChallenge,
  verifyMerklePath,
} from '../dist/src/domain/challenge.js';

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
  console.log(`${model}: ${JSON.stringify(p)} (${(challengeOps(p) / 1e12).toFixed(1)} T int ops, deadline ${sized.deadlineMs} ms, tree depth ${depth}):`);
  console.log(`  coordinator check (${p.samples} samples): CPU ${stats(times)}`);
}
