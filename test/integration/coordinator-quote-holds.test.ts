// Quotes hold capacity: a renter who pays for a quote while capacity exists gets a lease, also when 200 renters race for
// 160 GPUs over five price tiers; concurrent quotes spread over equally good nodes; holds lapse with their quote.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/client.js';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

const rentRequest = { gpus: 1, hours: 1, image: 'busybox', env: {}, ports: [] };

describe.each(ENGINES)('quote holds on %s', (engine) => {
  let coordinator: TestCoordinator;
  const clock = { offset: 0 };

  beforeAll(async () => {
    coordinator = await startTestCoordinator(engine, { quoteTtlMs: 60_000, now: () => Date.now() + clock.offset, maxClockSkewMs: 60 * 60_000 });
  });
  afterAll(async () => {
    await coordinator?.close();
  });

  it('a quote holds its GPUs until it lapses: others get 409 meanwhile, offers leave them out', async () => {
    const provider = newKeypair();
    const node = await coordinator.client(provider).registerNode(nodeSpec({ gpuCount: 2, model: 'NVIDIA H100 80GB HBM3', machineId: `hold-${engine}` }));
    await coordinator.client(provider).heartbeat(node.id, { gpus: [], containers: [] });
    const first = coordinator.client(newKeypair());
    const second = coordinator.client(newKeypair());
    const quote = await first.quote({ ...rentRequest, gpus: 2, model: 'H100' });
    expect(quote.placement[0]!.nodeId).toBe(node.id);
    await expect(second.quote({ ...rentRequest, gpus: 1, model: 'H100' })).rejects.toMatchObject({ status: 409, code: 'NO_CAPACITY' });
    expect((await second.offers({ model: 'H100' })).offers).toEqual([]);
    // Past the quote's expiry and the payment grace, the hold lapses.
    clock.offset = 60_000 + 2 * 60_000 + 1_000;
    try {
      expect((await second.offers({ model: 'H100' })).offers[0]).toMatchObject({ nodeId: node.id, freeGpus: 2 });
      const later = await second.quote({ ...rentRequest, gpus: 2, model: 'H100' });
      await expect(second.createLease({ quoteId: later.quoteId })).resolves.toMatchObject({ state: 'scheduled' });
      // The first quote expired: its renter is told so (and pays nothing).
      await expect(first.createLease({ quoteId: quote.quoteId })).rejects.toMatchObject({ status: 410 });
    } finally {
      clock.offset = 0;
    }
  });

  it('200 concurrent renters for 160 free GPUs in five price tiers: every renter who gets a quote gets a lease', { timeout: 240_000 }, async () => {
    const model = 'NVIDIA GeForce RTX 3090';
    const nodeIds = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const provider = newKeypair();
      const node = await coordinator.client(provider).registerNode(nodeSpec({ gpuCount: 8, model, machineId: `tier-${engine}-${i}`, pricePerGpuHour: 1_000_000 * (1 + (i % 5)) }));
      await coordinator.client(provider).heartbeat(node.id, { gpus: [], containers: [] });
      nodeIds.add(node.id);
    }
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const renter = coordinator.client(newKeypair());
        let quote;
        try {
          quote = await renter.quote({ ...rentRequest, model: '3090' });
        } catch (error) {
          if (error instanceof ApiError && error.code === 'NO_CAPACITY') return { outcome: 'no capacity' as const };
          throw error;
        }
        const lease = await renter.createLease({ quoteId: quote.quoteId });
        return { outcome: lease.state, node: lease.allocations?.[0]?.nodeId ?? quote.placement[0]!.nodeId };
      }),
    );
    const count = (what: string) => outcomes.filter((o) => o.outcome === what).length;
    expect({ scheduled: count('scheduled'), noCapacity: count('no capacity'), failed: count('failed') }).toEqual({ scheduled: 160, noCapacity: 40, failed: 0 });
    const used = new Set(outcomes.flatMap((o) => ('node' in o && o.node && nodeIds.has(o.node) ? [o.node] : [])));
    expect(used.size).toBe(20);
    const offers = await coordinator.client(newKeypair()).offers({ model: '3090' });
    expect(offers.offers).toEqual([]);
  });
});
