// The VRAM round (src/domain/vram.ts): sized from the catalogue's memory per model, words recomputed from the seed.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSeed } from '../../src/domain/challenge-matrices.js';
import { sizeChallenge } from '../../src/domain/challenge-sizing.js';
import { checkVramAnswers, CPU_STAND_IN_VRAM, fillVram, sampleVramQueries, sizeVram, validVramParams, vramWord, VRAM_FILL_SHARE } from '../../src/domain/vram.js';

const GiB = 2 ** 30;
const seed = () => randomBytes(16).toString('hex');

describe('VRAM round', () => {
  it.each([
    ['NVIDIA H100 SXM5 80GB', 80],
    ['NVIDIA H200 SXM 141GB', 141],
    ['NVIDIA A100 SXM4 40GB', 40],
    ['NVIDIA GeForce RTX 4090', 24],
  ])('%s fills 90%% of its catalogue memory (%i GB)', (model, gb) => {
    const vram = sizeVram(model, false)!;
    expect(vram.words).toBe(Math.floor((VRAM_FILL_SHARE * gb * GiB) / 4));
    expect(validVramParams(vram)).toBe(true);
    // The challenge carries it, and its deadline covers the fill.
    const sized = sizeChallenge(model, false, { allowanceMs: 5_000 });
    expect(sized.vram).toEqual(vram);
  });

  it('an unknown model claims no catalogue memory: no VRAM round; simulated GPUs fill the 2 MiB stand-in', () => {
    expect(sizeVram('NVIDIA A10G', false)).toBeUndefined();
    expect(sizeVram('NVIDIA H100 SXM5 80GB', true)).toBe(CPU_STAND_IN_VRAM);
    expect(CPU_STAND_IN_VRAM.words * 4).toBe(2 * 1024 * 1024);
    expect(sizeChallenge('H100-SXM-80GB', true, { allowanceMs: 1_000 }).vram).toBe(CPU_STAND_IN_VRAM);
  });

  it('the filled table answers every query; a wrong, missing or shifted word fails', () => {
    const s = seed();
    const p = { words: 4096, rounds: 16, queries: 64 };
    const table = fillVram(s, p);
    const queries = sampleVramQueries(p, crypto.getRandomValues(new Uint32Array(2 * p.queries)));
    const answers = queries.map((q) => table[q]!);
    expect(checkVramAnswers(s, p, queries, answers)).toEqual({ ok: true });
    expect(checkVramAnswers(s, p, queries, answers.map((a, i) => (i === 7 ? (a + 1) >>> 0 : a))).ok).toBe(false);
    expect(checkVramAnswers(s, p, queries, answers.slice(1)).ok).toBe(false);
    expect(checkVramAnswers(s, p, queries, undefined).ok).toBe(false);
    // The word next door is not the word asked for.
    expect(checkVramAnswers(s, p, queries, queries.map((q) => table[(q + 1) % p.words]!)).ok).toBe(false);
    // Another seed's table does not pass.
    const other = fillVram(seed(), p);
    expect(checkVramAnswers(s, p, queries, queries.map((q) => other[q]!)).ok).toBe(false);
  });

  it('queries cover the whole table, words past 2^32 included', () => {
    const p = { words: 2 ** 35, rounds: 16, queries: 256 };
    const queries = sampleVramQueries(p, crypto.getRandomValues(new Uint32Array(2 * p.queries)));
    expect(queries.every((q) => Number.isSafeInteger(q) && q >= 0 && q < p.words)).toBe(true);
    expect(queries.some((q) => q >= 2 ** 32)).toBe(true);
    const s = parseSeed(seed());
    // hi and lo both enter the word: 2^32 + i and i differ.
    expect(vramWord(s, 2 ** 32 + 5, 16)).not.toBe(vramWord(s, 5, 16));
  });
});
