// 200 concurrent lease requests against 20 nodes: no GPU is ever double-booked and grants equal capacity (both engines).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lease } from '../../src/api/schemas/leases.js';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

describe.each(ENGINES)('lease allocation under concurrency on %s', (engine) => {
  let coord: TestCoordinator;
  beforeAll(async () => {
    coord = await startTestCoordinator(engine, { maxConnections: 20 });
  });
  afterAll(async () => {
    await coord?.close();
  });

  it('grants exactly the capacity and never books a GPU twice', async () => {
    const provider = coord.client(newKeypair());
    const nodes = 20;
    const gpusPerNode = 4;
    for (let i = 0; i < nodes; i++) await provider.registerNode(nodeSpec({ gpuCount: gpusPerNode, machineId: `conc-${i}`, pricePerGpuHour: 1_000_000 }));
    const renters = Array.from({ length: 10 }, () => coord.client(newKeypair()));
    // Quotes first, all at once (300 GPUs asked for, 80 exist): a quote holds its GPUs, so those past capacity are refused
    // before anyone pays; then every lease at once, and each quoted renter gets one.
    const quoted = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => renters[i % renters.length]!.quote({ gpus: 1 + (i % 2), image: 'busybox' }).then((q) => ({ q, client: renters[i % renters.length]! }))));
    const refusedQuotes = quoted.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as { code?: string });
    expect(refusedQuotes.every((reason) => reason.code === 'NO_CAPACITY')).toBe(true);
    const quotes = quoted.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const results = await Promise.allSettled(quotes.map(({ q, client }) => client.createLease({ quoteId: q.quoteId })));
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected.map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    const leases = results.map((r) => (r as PromiseFulfilledResult<Lease>).value);
    expect(leases.filter((l) => l.state !== 'scheduled')).toEqual([]);
    const uuids = leases.flatMap((l) => l.allocations.flatMap((a) => a.gpuUuids));
    expect(new Set(uuids).size).toBe(uuids.length);
    const totalGpus = nodes * gpusPerNode;
    // Requests ask for 1 or 2 GPUs (300 in all) against 80: allocation stops only when the remaining holes cannot fit a request.
    expect(uuids.length).toBeGreaterThanOrEqual(totalGpus - 1);
    expect(uuids.length).toBeLessThanOrEqual(totalGpus);
    const { offers } = await coord.client().offers();
    expect(offers.reduce((n, o) => n + o.freeGpus, 0)).toBe(totalGpus - uuids.length);
  }, 120_000);
});
