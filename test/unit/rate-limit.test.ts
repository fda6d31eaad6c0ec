import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../../src/coordinator/http/rate-limit.js';

describe('token buckets', () => {
  it('allows the burst, then refills at the rate', () => {
    const clock = { t: 0 };
    const buckets = new TokenBuckets({ perSecond: 2, burst: 3 }, { now: () => clock.t, maxKeys: 10 });
    expect([1, 2, 3, 4].map(() => buckets.take('a'))).toEqual([true, true, true, false]);
    clock.t += 500;
    expect([buckets.take('a'), buckets.take('a')]).toEqual([true, false]);
  });

  it('holds at most maxKeys buckets, dropping the least recently used, and never resets the others', () => {
    const buckets = new TokenBuckets({ perSecond: 0, burst: 1 }, { now: () => 0, maxKeys: 100 });
    expect(buckets.take('abuser')).toBe(true);
    for (let i = 0; i < 1_000; i++) {
      buckets.take(`other-${i}`);
      // The abuser keeps sending: its bucket stays recently used, so it stays empty.
      expect(buckets.take('abuser')).toBe(false);
    }
    expect(buckets.size).toBe(100);
  });
});
