// Pure money arithmetic in integer base units: quotes, provider accruals (minus the network fee) and refunds.

export const BPS_DENOMINATOR = 10_000;
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
/** The longest a lease may run, in hours (30 days): spending is always bounded. */
export const MAX_LEASE_HOURS = 720;

export interface PricedAllocation {
  pricePerGpuHour: number;
  gpus: number;
}

export interface QuotePrice {
  /** Average per GPU-hour, rounded down (informational when nodes differ in price). */
  pricePerGpuHour: number;
  perHour: number;
  total: number;
  /** The network's share of total; providers accrue total - fee. */
  fee: number;
}

function assertSafe(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} is out of range: ${value}`);
  return value;
}

export function feeOf(amount: number, feeBps: number): number {
  return Math.floor((amount * feeBps) / BPS_DENOMINATOR);
}

export function priceQuote(allocations: readonly PricedAllocation[], hours: number, feeBps: number): QuotePrice {
  const gpus = allocations.reduce((n, a) => n + a.gpus, 0);
  const perHour = assertSafe(allocations.reduce((sum, a) => sum + a.pricePerGpuHour * a.gpus, 0), 'price per hour');
  const total = assertSafe(perHour * hours, 'total');
  return { pricePerGpuHour: gpus > 0 ? Math.floor(perHour / gpus) : 0, perHour, total, fee: feeOf(total, feeBps) };
}

export interface Accrual {
  gross: number;
  fee: number;
  net: number;
}

/**
 * What a provider earns for running minutes (fromMinute, toMinute] of a lease at `perHour`.
 * Computed from cumulative totals so accruing minute by minute or all at once gives the same sum (no rounding drift).
 */
export function accrueMinutes(perHour: number, fromMinute: number, toMinute: number, feeBps: number): Accrual {
  if (toMinute <= fromMinute) return { gross: 0, fee: 0, net: 0 };
  const grossUpTo = (minute: number) => Math.floor((perHour * minute) / 60);
  const gross = grossUpTo(toMinute) - grossUpTo(fromMinute);
  const fee = feeOf(grossUpTo(toMinute), feeBps) - feeOf(grossUpTo(fromMinute), feeBps);
  return { gross, fee, net: gross - fee };
}

/**
 * The renter's money back for frozen minutes (fromMinute, toMinute] of a lease at `perHour`: minutes it ran without
 * evidence (a liveness probe failed), which pay the provider nothing. Cumulative like accrueMinutes, so refunding in
 * parts sums to the same as at once; rounded down, so with the end refund (which rounds used time up) the renter never
 * gets back more than the minutes' price.
 */
export function frozenRefund(perHour: number, fromMinute: number, toMinute: number): number {
  if (toMinute <= fromMinute) return 0;
  const upTo = (minute: number) => Math.floor((perHour * minute) / 60);
  return assertSafe(upTo(toMinute) - upTo(fromMinute), 'frozen refund');
}

/** Whole minutes between two instants, rounded down (providers are paid per confirmed minute). */
export function wholeMinutes(fromMs: number, toMs: number): number {
  return toMs > fromMs ? Math.floor((toMs - fromMs) / MINUTE_MS) : 0;
}

/** Minutes started between two instants, rounded up: how a renter is billed for the time used. */
export function startedMinutes(fromMs: number, toMs: number): number {
  return toMs > fromMs ? Math.ceil((toMs - fromMs) / MINUTE_MS) : 0;
}

/**
 * The renter's refund when a lease ends at `endedAt` before its paid end: the unused share of what was paid,
 * with used time rounded up to the minute so the provider's accrued minutes are always covered.
 */
export function refundFor(lease: { totalPaid: number; startsAt: number; endsAt: number }, endedAt: number): number {
  const paidMs = lease.endsAt - lease.startsAt;
  if (paidMs <= 0 || endedAt >= lease.endsAt) return 0;
  const paidMinutes = Math.ceil(paidMs / MINUTE_MS);
  const usedMinutes = Math.min(paidMinutes, Math.ceil(Math.max(0, endedAt - lease.startsAt) / MINUTE_MS));
  return lease.totalPaid - Math.ceil((lease.totalPaid * usedMinutes) / paidMinutes);
}
