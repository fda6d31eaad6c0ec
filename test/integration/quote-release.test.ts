// A renter who will not pay for a quote releases it: its GPUs are on offer again at once, and the quote can no longer
// become a lease. Releasing is idempotent, another wallet's quote reads as unknown, a leased quote cannot be released.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

const rentRequest = { gpus: 2, hours: 1, image: 'busybox', env: {}, ports: [] };

describe.each(ENGINES)('quote release on %s', (engine) => {
  let coordinator: TestCoordinator;
  const clock = { offset: 0 };

  beforeAll(async () => {
    coordinator = await startTestCoordinator(engine, { quoteTtlMs: 60_000, now: () => Date.now() + clock.offset, maxClockSkewMs: 60 * 60_000 });
  });
  afterAll(async () => {
    await coordinator?.close();
  });

  async function nodeWithGpus(model: string, machineId: string): Promise<string> {
    const provider = newKeypair();
    const node = await coordinator.client(provider).registerNode(nodeSpec({ gpuCount: 2, model, machineId }));
    await coordinator.client(provider).heartbeat(node.id, { gpus: [], containers: [] });
    return node.id;
  }

  it('frees the GPUs at once; the released quote cannot become a lease; releasing again answers the same', async () => {
    const nodeId = await nodeWithGpus('NVIDIA H100 80GB HBM3', `release-${engine}`);
    const renter = coordinator.client(newKeypair());
    const other = coordinator.client(newKeypair());
    const quote = await renter.quote({ ...rentRequest, model: 'H100' });
    expect((await other.offers({ model: 'H100' })).offers).toEqual([]);
    await expect(other.quote({ ...rentRequest, model: 'H100' })).rejects.toMatchObject({ status: 409, code: 'NO_CAPACITY' });

    // Another wallet cannot tell the quote exists, let alone release it.
    await expect(other.releaseQuote(quote.quoteId)).rejects.toMatchObject({ status: 404 });
    expect((await other.offers({ model: 'H100' })).offers).toEqual([]);

    const released = await renter.releaseQuote(quote.quoteId);
    expect(released).toMatchObject({ quoteId: quote.quoteId, state: 'released', gpusFreed: 2 });
    expect((await other.offers({ model: 'H100' })).offers).toEqual([expect.objectContaining({ nodeId, freeGpus: 2 })]);

    await expect(renter.createLease({ quoteId: quote.quoteId })).rejects.toMatchObject({ status: 410, code: 'QUOTE_RELEASED' });
    // Idempotent: the same answer (its first release time), nothing more freed.
    expect(await renter.releaseQuote(quote.quoteId)).toEqual({ ...released, gpusFreed: 0 });

    // The freed GPUs go to the next renter.
    const next = await other.quote({ ...rentRequest, model: 'H100' });
    await expect(other.createLease({ quoteId: next.quoteId })).resolves.toMatchObject({ state: 'scheduled' });
    // The released quote still cannot take them back.
    await expect(renter.createLease({ quoteId: quote.quoteId })).rejects.toMatchObject({ status: 410, code: 'QUOTE_RELEASED' });
    expect((await renter.leases({ all: true })).leases).toEqual([]);
  });

  it('refuses to release a quote that became a lease (409 QUOTE_USED, naming the lease); unknown quotes are 404', async () => {
    await nodeWithGpus('NVIDIA A100 80GB', `release-leased-${engine}`);
    const renter = coordinator.client(newKeypair());
    const quote = await renter.quote({ ...rentRequest, model: 'A100' });
    const lease = await renter.createLease({ quoteId: quote.quoteId });
    await expect(renter.releaseQuote(quote.quoteId)).rejects.toMatchObject({ status: 409, code: 'QUOTE_USED', details: { leaseId: lease.id } });
    expect((await renter.lease(lease.id)).state).toBe('scheduled');
    await expect(renter.releaseQuote('q_doesnotexist')).rejects.toMatchObject({ status: 404 });
  });

  it('releasing a lapsed quote answers 200 too; it stays unpayable', async () => {
    await nodeWithGpus('NVIDIA L40S', `release-lapsed-${engine}`);
    const renter = coordinator.client(newKeypair());
    const quote = await renter.quote({ ...rentRequest, model: 'L40S' });
    clock.offset = 60_000 + 1_000;
    try {
      // Lapsed but still in its payment grace: the release ends the hold early.
      await expect(renter.releaseQuote(quote.quoteId)).resolves.toMatchObject({ state: 'released', gpusFreed: 2 });
      await expect(renter.createLease({ quoteId: quote.quoteId })).rejects.toMatchObject({ status: 410, code: 'QUOTE_RELEASED' });
    } finally {
      clock.offset = 0;
    }
  });
});
