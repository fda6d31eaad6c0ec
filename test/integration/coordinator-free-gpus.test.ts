// nodes.free_gpus (what placement prefilters on and /metrics reports) stays equal to the GPUs actually free while many
// leases on one node start and stop at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

async function freeGpusMetric(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^iocli_gpus\{state="free"\} (\d+)$/m.exec(text)?.[1]);
}

describe.each(ENGINES)('free GPU count under concurrent stops on %s', (engine) => {
  let coordinator: TestCoordinator;

  beforeAll(async () => {
    coordinator = await startTestCoordinator(engine, { maxConnections: 20 });
  });
  afterAll(async () => {
    await coordinator?.close();
  });

  it('matches the free GPUs after 32 leases on one node stop concurrently, three rounds', { timeout: 120_000 }, async () => {
    const provider = newKeypair();
    const node = await coordinator.client(provider).registerNode(nodeSpec({ gpuCount: 32, machineId: `free-${engine}` }));
    await coordinator.client(provider).heartbeat(node.id, { gpus: [], containers: [] });
    for (let round = 0; round < 3; round++) {
      const renters = Array.from({ length: 32 }, () => coordinator.client(newKeypair()));
      const leases = await Promise.all(renters.map(async (renter) => ({ renter, lease: await renter.createLease({ quoteId: (await renter.quote({ gpus: 1, image: 'busybox' })).quoteId }) })));
      expect(leases.every(({ lease }) => lease.state === 'scheduled')).toBe(true);
      expect(await freeGpusMetric(coordinator.url)).toBe(0);
      await Promise.all(leases.map(({ renter, lease }) => renter.stopLease(lease.id)));
      expect(await freeGpusMetric(coordinator.url)).toBe(32);
    }
  });
});
