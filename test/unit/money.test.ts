import { describe, expect, it } from 'vitest';
import { formatTokenAmount, parseTokenAmount } from '../../src/domain/money.js';
import { UsageError } from '../../src/errors.js';

describe('token amounts', () => {
  it.each([
    ['1', 6, 1_000_000],
    ['0.000001', 6, 1],
    ['12.5', 6, 12_500_000],
    ['2.1', 6, 2_100_000],
    ['1234567.891', 6, 1_234_567_891_000],
    ['0', 6, 0],
    ['12', 2, 1200],
  ])('parses %s with %i decimals into %i base units, and back', (text, decimals, units) => {
    expect(parseTokenAmount(text, { flag: '--max-price', decimals })).toBe(units);
    expect(formatTokenAmount(units, decimals)).toBe(text);
  });

  it.each(['-1', '1.0000001', 'abc', '', '1e6', '99999999999999999999'])('rejects %j, naming the flag', (text) => {
    expect(() => parseTokenAmount(text, { flag: '--max-price' })).toThrow(UsageError);
    expect(() => parseTokenAmount(text, { flag: '--max-price' })).toThrow(/--max-price/);
  });

  it('rejects zero where an amount must be positive (prices)', () => {
    expect(() => parseTokenAmount('0', { flag: '--price', positive: true })).toThrow(/--price/);
    expect(parseTokenAmount('0.000001', { flag: '--price', positive: true })).toBe(1);
  });

  it('formats without trailing zeros, bigint and negative amounts included', () => {
    expect([formatTokenAmount(2_000_000), formatTokenAmount(2_500_000), formatTokenAmount(1), formatTokenAmount(-1_500_000n)]).toEqual(['2', '2.5', '0.000001', '-1.5']);
    expect(formatTokenAmount(123_456_789_012_345_678_901n)).toBe('123456789012345.678901');
  });
});
