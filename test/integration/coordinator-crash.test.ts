// kill -9 a coordinator process under lease load, restart it on the same data: nothing acknowledged is lost, nothing double-booked.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../src/api/client.js';
import type { Lease } from '../../src/api/schemas/leases.js';
import { createStorage, ENGINES, newKeypair, nodeSpec } from '../support/coordinator.js';
import { ensureCoordinatorBuilt, kill9, spawnCoordinatorProcess, type CoordinatorProcess } from '../support/coordinator-process.js';

const startChild = (options: Record<string, unknown>): Promise<CoordinatorProcess> => spawnCoordinatorProcess({ port: 0, dev: true, rateLimit: false, ...options });

describe.each(ENGINES)('coordinator crash safety on %s', (engine) => {
  let storage: Awaited<ReturnType<typeof createStorage>>;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    ensureCoordinatorBuilt();
    storage = await createStorage(engine);
  });
  afterAll(async () => {
    for (const child of children) await kill9(child);
    await storage?.release();
  });

  it('keeps every acknowledged lease and node across kill -9', async () => {
    const first = await startChild(storage.location);
    children.push(first.child);
    const provider = newKeypair();
    const renter = newKeypair();
    const p = createApiClient({ baseUrl: first.url, keypair: provider });
    const nodeIds: string[] = [];
    for (let i = 0; i < 10; i++) nodeIds.push((await p.registerNode(nodeSpec({ gpuCount: 4, machineId: `crash-${i}` }))).id);

    const r = createApiClient({ baseUrl: first.url, keypair: renter, timeoutMs: 5_000 });
    const acknowledged: Lease[] = [];
    let stop = false;
    const worker = async () => {
      while (!stop) {
        try {
          const quote = await r.quote({ gpus: 1, image: 'busybox' });
          acknowledged.push(await r.createLease({ quoteId: quote.quoteId }));
        } catch {
          return; // the coordinator died mid-request: that request was not acknowledged
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    while (acknowledged.length < 15) await new Promise((resolve) => setTimeout(resolve, 5));
    await kill9(first.child);
    stop = true;
    await Promise.all(workers);

    const second = await startChild(storage.location);
    children.push(second.child);
    const r2 = createApiClient({ baseUrl: second.url, keypair: renter });
    const { leases } = await r2.leases({ all: true });
    const byId = new Map(leases.map((l) => [l.id, l]));
    for (const lease of acknowledged) {
      expect(byId.get(lease.id)?.allocations).toEqual(lease.allocations);
    }
    const active = leases.filter((l) => l.state === 'scheduled');
    const uuids = active.flatMap((l) => l.allocations.flatMap((a) => a.gpuUuids));
    expect(new Set(uuids).size).toBe(uuids.length);
    const { offers } = await createApiClient({ baseUrl: second.url }).offers();
    // Quotes the crash cut off before their lease still hold their GPUs until they lapse (at most one per worker).
    const offered = offers.reduce((n, o) => n + o.freeGpus, 0);
    expect(offered).toBeLessThanOrEqual(40 - uuids.length);
    expect(offered).toBeGreaterThanOrEqual(40 - uuids.length - workers.length);
    // Nodes survived (the same machine re-registers into the same id), and allocation keeps working after the restart.
    const p2 = createApiClient({ baseUrl: second.url, keypair: provider });
    expect((await p2.registerNode(nodeSpec({ gpuCount: 4, machineId: 'crash-0' }))).id).toBe(nodeIds[0]);
    if (uuids.length < 40) expect((await r2.createLease({ quoteId: (await r2.quote({ gpus: 1, image: 'busybox' })).quoteId })).state).toBe('scheduled');
    second.child.kill('SIGTERM');
    await new Promise((resolve) => second.child.once('exit', resolve));
  }, 60_000);
});
