// The renter's steps with a stand-in API: retries keep one idempotency key, waiting stops at running/ended/deadline,
// log following drains after the end, and quotes above --max-price are refused.
import { describe, expect, it } from 'vitest';
import type { Lease, LogsResponse, Quote } from '../../src/api/schemas/leases.js';
import { ExternalError, UserError } from '../../src/errors.js';
import { followLogs, quoteKey, requestQuote, waitForLease, withRetries, withRetryHint } from '../../src/renter/lease-flow.js';

const lease = (state: Lease['state'], over: Partial<Lease> = {}): Lease =>
  ({ id: 'lease_1', state, refund: 0, failureReason: null, allocations: [], ports: [], ...over }) as Lease;

describe('withRetries', () => {
  it.each([
    [new UserError('rejected', { code: 'PAYMENT_REJECTED' }), 1],
    [new ExternalError('down'), 3],
  ])('%s: %d attempt(s)', async (error, attempts) => {
    let n = 0;
    await expect(withRetries(async () => { n++; throw error; }, { delayMs: 1 })).rejects.toThrow();
    expect(n).toBe(attempts);
  });

  it('an unknown outcome tells how to retry safely with the key', () => {
    const error = withRetryHint(new ExternalError('timed out'), 'iocli rent …', 'abc-123-key') as UserError;
    expect(error.hint).toMatch(/--idempotency-key abc-123-key/);
    const other = new UserError('nope');
    expect(withRetryHint(other, 'x', 'k')).toBe(other);
  });
});

describe('requestQuote', () => {
  const quote = (price: number, placement = [price]): Quote =>
    ({ quoteId: 'q', pricePerGpuHour: price, placement: placement.map((p) => ({ nodeId: 'n', gpuUuids: ['g'], pricePerGpuHour: p, region: 'r' })) }) as Quote;

  it.each([
    [quote(2_000_000), 2_000_000, false],
    [quote(2_000_000), 1_999_999, true],
    [quote(1_500_000, [1_000_000, 2_000_000]), 1_800_000, true], // one node above the limit even though the average is below
    [quote(2_000_000), undefined, false],
  ])('%#: refused=%s', async (q, maxPrice, refused) => {
    const seen: Array<string | undefined> = [];
    const api = { quote: async (_body: unknown, o?: { idempotencyKey?: string }) => (seen.push(o?.idempotencyKey), q) };
    const promise = requestQuote(api as never, { gpus: 1, image: 'x', ...(maxPrice !== undefined ? { maxPrice } : {}) }, 6, { idempotencyKey: 'k-12345678' });
    if (refused) await expect(promise).rejects.toMatchObject({ exitCode: 4, code: 'PRICE_ABOVE_MAX' });
    else await expect(promise).resolves.toBe(q);
    expect(seen).toEqual([quoteKey('k-12345678')]);
  });
});

describe('waitForLease', () => {
  it.each([
    [['scheduled', 'running'], 'running', false],
    [['scheduled', 'failed'], 'failed', false],
    [['scheduled', 'scheduled', 'scheduled', 'scheduled', 'scheduled', 'scheduled'], 'scheduled', true],
  ] as const)('%j → %s (timed out: %s)', async (states, final, timedOut) => {
    let i = 0;
    const seen: string[] = [];
    const api = { lease: async () => lease(states[Math.min(++i, states.length - 1)]!) };
    const result = await waitForLease(api as never, lease('paid'), { timeoutMs: 60, intervalMs: 5, onUpdate: (l) => seen.push(l.state) });
    expect(result.lease.state).toBe(final);
    expect(result.timedOut).toBe(timedOut);
    expect(seen.length).toBeGreaterThan(0);
  });

  it('keeps waiting through a coordinator blip', async () => {
    let i = 0;
    const api = { lease: async () => { if (++i === 1) throw new ExternalError('blip'); return lease('running'); } };
    expect((await waitForLease(api as never, lease('scheduled'), { timeoutMs: 1000, intervalMs: 1 })).lease.state).toBe('running');
  });

  it('stops at once when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await waitForLease({ lease: async () => lease('scheduled') } as never, lease('scheduled'), { timeoutMs: 10_000, signal: controller.signal });
    expect(result.timedOut).toBe(true);
  });
});

describe('followLogs', () => {
  const page = (cursor: number, ...data: string[]): LogsResponse => ({ cursor, entries: data.map((d, i) => ({ cursor: cursor - data.length + i + 1, stream: 'stdout', data: d, at: '' })) });

  it('prints what exists, follows with the cursor, and drains once the lease ends', async () => {
    const requests: unknown[] = [];
    const pages = [page(2, 'a', 'b'), page(3, 'c'), page(3), page(4, 'd')];
    const states: Lease['state'][] = ['running', 'completed'];
    const api = {
      leaseLogs: async (_id: string, query: unknown) => (requests.push(query), pages.shift()!),
      lease: async () => lease(states.shift()!),
    };
    const lines: string[] = [];
    const result = await followLogs(api as never, 'lease_1', { tail: 10, follow: true, intervalMs: 1, onEntry: (e) => lines.push(e.data) });
    expect(lines).toEqual(['a', 'b', 'c', 'd']);
    expect(requests).toEqual([{ tail: 10 }, { since: 2 }, { since: 3 }, { since: 3 }]);
    expect(result).toMatchObject({ cursor: 4, entries: 4, ended: true, lease: { state: 'completed' } });
  });

  it('without --follow reads once', async () => {
    const api = { leaseLogs: async () => page(1, 'x'), lease: async () => { throw new Error('not called'); } };
    expect(await followLogs(api as never, 'l', { follow: false, onEntry: () => {} })).toEqual({ cursor: 1, entries: 1, ended: false });
  });
});
