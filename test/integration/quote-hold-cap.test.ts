// Quotes are free: one wallet quoting again and again must not hold every GPU. Past its cap, a renter's quotes are
// priced but hold nothing, so other renters still see (and get) the capacity.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

describe.each(ENGINES)('quote holds per renter on %s', (engine) => {
  let coordinator: TestCoordinator;

  beforeAll(async () => {
    coordinator = await startTestCoordinator(engine, { quoteHoldsPerRenter: 4 });
  });
  afterAll(async () => {
    await coordinator?.close();
  });

  it('holds at most the cap for one wallet; the rest stays on offer and another renter gets a lease', async () => {
    const provider = newKeypair();
    const node = await coordinator.client(provider).registerNode(nodeSpec({ gpuCount: 8, machineId: `hold-cap-${engine}` }));
    await coordinator.client(provider).heartbeat(node.id, { gpus: [], containers: [] });
    const free = async () => (await coordinator.client().offers()).offers.find((o) => o.nodeId === node.id)?.freeGpus ?? 0;

    const hoarder = coordinator.client(newKeypair());
    const quotes = [];
    for (let i = 0; i < 6; i++) quotes.push(await hoarder.quote({ gpus: 2, image: 'busybox' }));
    // Two quotes of 2 reach the cap of 4; the next four are priced but hold nothing.
    expect(await free()).toBe(4);

    const other = coordinator.client(newKeypair());
    const lease = await other.createLease({ quoteId: (await other.quote({ gpus: 4, image: 'busybox' })).quoteId });
    expect(lease.state).toBe('scheduled');
    expect(await free()).toBe(0);

    // The hoarder's held quotes still turn into leases: what a quote held is kept for it.
    const paid = await hoarder.createLease({ quoteId: quotes[0]!.quoteId });
    expect(paid.state).toBe('scheduled');
  });
});
