// The GPU challenge protocol (src/domain/challenge.ts): honest answers pass, every kind of wrong answer fails.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkOpenings, sampleEntries } from '../../src/domain/challenge.js';
import { expectedEntry, parseSeed } from '../../src/domain/challenge-matrices.js';
import { CPU_STAND_IN_PARAMS, leafCount, totalEntries, type ChallengeParams } from '../../src/domain/challenge-params.js';
import { challengeDeadlineMs, challengeOps, DEADLINE_SLACK, sizeChallenge } from '../../src/domain/challenge-sizing.js';
import { committedAnswers, solveChallenge } from '../../src/domain/challenge-solver.js';

const small: ChallengeParams = { n: 16, k: 64, batches: 3, leafEntries: 4, samples: 40 };
const seed = () => randomBytes(16).toString('hex');
const draw = (p: ChallengeParams) => sampleEntries(p, crypto.getRandomValues(new Uint32Array(2 * p.samples)));

describe('challenge protocol', () => {
  it('an honest CPU answer passes, and entries are exact dot products', () => {
    const s = seed();
    const solved = solveChallenge(s, small);
    const samples = draw(small);
    expect(checkOpenings(s, small, solved.root, samples, solved.open(samples))).toEqual({ ok: true });
    // One entry recomputed independently of the solver's loop.
    expect(solved.open([5])[0]!.leaf[1]).toBe(expectedEntry(parseSeed(s), small, 5));
  });

  it('the stand-in covers the whole tree (odd leaf counts too)', () => {
    const p = { ...small, batches: 1, n: 12, leafEntries: 4 }; // 36 leaves
    const s = seed();
    const solved = solveChallenge(s, p);
    const all = Array.from({ length: totalEntries(p) }, (_, i) => i);
    expect(checkOpenings(s, { ...p, samples: all.length }, solved.root, all, solved.open(all))).toEqual({ ok: true });
    expect(leafCount(p)).toBe(36);
  });

  it.each([
    ['another seed', (s: string) => ({ seed: seed(), tamper: undefined as undefined | ((x: Int32Array) => void) })],
    ['one wrong entry committed', (s: string) => ({ seed: s, tamper: (x: Int32Array) => x.fill(0) })],
  ])('fails: %s', (_name, make) => {
    const s = seed();
    const { seed: used, tamper } = make(s);
    const honest = solveChallenge(used, small);
    const samples = draw(small);
    let openings = honest.open(samples);
    let root = honest.root;
    if (tamper) {
      const table = new Int32Array(totalEntries(small));
      tamper(table);
      const forged = committedAnswers(table, small);
      openings = forged.open(samples);
      root = forged.root;
    }
    expect(checkOpenings(s, small, root, samples, openings).ok).toBe(false);
  });

  it('an opening changed after the commitment does not match the root', () => {
    const s = seed();
    const solved = solveChallenge(s, small);
    const samples = draw(small);
    const openings = solved.open(samples);
    openings[3] = { ...openings[3]!, leaf: openings[3]!.leaf.map((v, i) => (i === samples[3]! % small.leafEntries ? v + 1 : v)) };
    expect(checkOpenings(s, small, solved.root, samples, openings)).toMatchObject({ ok: false, reason: expect.stringContaining('does not match the commitment') });
  });

  it('openings for entries other than the sampled ones fail', () => {
    const s = seed();
    const solved = solveChallenge(s, small);
    const samples = draw(small);
    const shifted = samples.map((e) => (e + 1) % totalEntries(small));
    expect(checkOpenings(s, small, solved.root, samples, solved.open(shifted)).ok).toBe(false);
    expect(checkOpenings(s, small, solved.root, samples, solved.open(samples).slice(1)).ok).toBe(false);
  });

  it('a node that computed only half the entries fails (it passes with probability 2^-40)', () => {
    const s = seed();
    const honest = solveChallenge(s, small);
    const all = Array.from({ length: totalEntries(small) }, (_, i) => i);
    const table = Int32Array.from(honest.open(all).map((o) => o.leaf[o.entry % small.leafEntries]!));
    // Skip the odd half: the lazy node guesses 0 there.
    for (let i = 1; i < table.length; i += 2) table[i] = 0;
    const lazy = committedAnswers(table, small);
    let passed = 0;
    for (let round = 0; round < 50; round++) {
      const samples = draw(small);
      if (checkOpenings(s, small, lazy.root, samples, lazy.open(samples)).ok) passed++;
    }
    expect(passed).toBe(0);
  });

  it.each([
    ['NVIDIA H100 SXM5 80GB', 'NVIDIA A100 SXM4 80GB'],
    ['NVIDIA GeForce RTX 4090', 'NVIDIA GeForce RTX 4080'],
    ['NVIDIA GeForce RTX 4090', 'NVIDIA GeForce RTX 3090'],
  ])('a %s challenge is sized so a %s cannot meet its deadline', (big, smallModel) => {
    const claimed = sizeChallenge(big, false, { allowanceMs: 5_000 });
    const ownRate = sizeChallenge(smallModel, false, { allowanceMs: 0 });
    const smallTime = challengeOps(claimed.params) / (challengeOps(ownRate.params) / (ownRate.deadlineMs / DEADLINE_SLACK));
    expect(claimed.kind).toBe('gpu');
    expect(smallTime).toBeGreaterThan(claimed.deadlineMs);
  });

  it.each([
    ['GPUs in parallel: the slowest part', [{ kind: 'gpu' as const, deadlineMs: 1_500 }, { kind: 'gpu' as const, deadlineMs: 1_200 }], 1_500],
    ['the in-process stand-in: the parts add up', [{ kind: 'cpu-stand-in' as const, deadlineMs: 1_500 }, { kind: 'cpu-stand-in' as const, deadlineMs: 1_500 }], 2_000],
  ])('a challenge deadline for %s', (_name, parts, expected) => {
    expect(challengeDeadlineMs(parts, 1_000)).toBe(expected);
  });

  it('simulated nodes get the labelled CPU stand-in', () => {
    expect(sizeChallenge('NVIDIA H100 SXM5 80GB', true, { allowanceMs: 3_000 })).toMatchObject({ kind: 'cpu-stand-in', params: CPU_STAND_IN_PARAMS });
  });
});
