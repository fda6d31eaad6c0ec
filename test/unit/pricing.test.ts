import { describe, expect, it } from 'vitest';
import { accrueMinutes, feeOf, frozenRefund, priceQuote, refundFor, startedMinutes, wholeMinutes } from '../../src/domain/pricing.js';

describe('pricing', () => {
  it('prices a quote across allocations', () => {
    expect(priceQuote([{ pricePerGpuHour: 1_000_000, gpus: 2 }, { pricePerGpuHour: 500_000, gpus: 1 }], 3, 500)).toEqual({ pricePerGpuHour: 833_333, perHour: 2_500_000, total: 7_500_000, fee: 375_000 });
  });

  it.each([
    [1_000_000, 250, 25_000],
    [999, 500, 49],
    [0, 500, 0],
  ])('fee of %i at %i bps is %i', (amount, bps, fee) => expect(feeOf(amount, bps)).toBe(fee));

  it('accrues without rounding drift: minute by minute equals all at once', () => {
    const perHour = 1_234_567;
    let gross = 0;
    let net = 0;
    for (let m = 0; m < 97; m++) {
      const a = accrueMinutes(perHour, m, m + 1, 750);
      gross += a.gross;
      net += a.net;
    }
    const once = accrueMinutes(perHour, 0, 97, 750);
    expect(gross).toBe(once.gross);
    expect(net).toBe(once.net);
    expect(once.gross).toBe(Math.floor((perHour * 97) / 60));
    expect(once.fee + once.net).toBe(once.gross);
  });

  it('counts whole minutes only', () => {
    expect(wholeMinutes(0, 59_999)).toBe(0);
    expect(wholeMinutes(0, 120_001)).toBe(2);
    expect(wholeMinutes(10, 5)).toBe(0);
  });

  it.each([
    [0, 1, 1],
    [0, 60_000, 1],
    [0, 60_001, 2],
    [0, 0, 0],
    [10, 5, 0],
  ])('counts started minutes between %i and %i ms as %i', (from, to, expected) => {
    expect(startedMinutes(from, to)).toBe(expected);
  });

  it.each([
    ['nothing used', 0, 6_000_000],
    ['half used', 30 * 60_000, 3_000_000],
    ['a started minute counts as used', 60_001, 6_000_000 - 200_000],
    ['ended at the paid end', 60 * 60_000, 0],
  ])('refund: %s', (_name, usedMs, refund) => {
    expect(refundFor({ totalPaid: 6_000_000, startsAt: 1_000, endsAt: 1_000 + 60 * 60_000 }, 1_000 + usedMs)).toBe(refund);
  });
  it.each([
    // perHour, from, to, refund
    [600_000, 0, 10, 100_000],
    [600_000, 10, 16, 60_000],
    [1_000, 0, 1, 16],
    [1_000, 1, 2, 17],
    [1_000, 5, 5, 0],
    [1_000, 6, 5, 0],
  ])('frozen minutes at %i/h, minutes %i to %i, refund %i', (perHour, from, to, refund) => expect(frozenRefund(perHour, from, to)).toBe(refund));

  it('frozen minutes refunded in parts sum to one refund, and with the end refund never exceed what was paid', () => {
    const perHour = 1_234_567;
    const hours = 3;
    const totalPaid = perHour * hours;
    let parts = 0;
    for (let m = 0; m < 97; m++) parts += frozenRefund(perHour, m, m + 1);
    expect(parts).toBe(frozenRefund(perHour, 0, 97));
    for (let usedMinutes = 0; usedMinutes <= 60 * hours; usedMinutes += 7) {
      const end = refundFor({ totalPaid, startsAt: 0, endsAt: hours * 3_600_000 }, usedMinutes * 60_000 - 1);
      for (let frozen = 0; frozen <= usedMinutes; frozen += 5) {
        const provider = accrueMinutes(perHour, 0, usedMinutes - frozen, 0).gross;
        expect(end + frozenRefund(perHour, 0, frozen) + provider).toBeLessThanOrEqual(totalPaid);
      }
    }
  });
});
