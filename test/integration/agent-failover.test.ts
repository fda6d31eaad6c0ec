// An agent given two coordinator replicas (one PostgreSQL database) keeps its node online and its lease running when the
// replica it was using dies: its client fails over to the other, and its heartbeat session continues there.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../src/api/client.js';
import type { AgentEvent } from '../../src/provider/agent.js';
import { startCoordinator, type CoordinatorServer } from '../../src/coordinator/server.js';
import { startTestAgent } from '../support/agent.js';
import { createStorage, newKeypair } from '../support/coordinator.js';
import { ensureDocker, ensureTestImage, removeContainersByLabel } from '../support/docker.js';
import { waitFor } from '../support/wait.js';

const hasDocker = await ensureDocker();
const RUN = `failover-${process.pid}-${Date.now().toString(36)}`;

describe.skipIf(!hasDocker)('agent failover between coordinator replicas (PostgreSQL)', () => {
  let storage: Awaited<ReturnType<typeof createStorage>>;
  const replicas: CoordinatorServer[] = [];
  let dataDir: string;
  const stopAgent = new AbortController();
  let agentDone: Promise<unknown> | undefined;
  let nodeId: string | undefined;

  beforeAll(async () => {
    storage = await createStorage('postgres');
    dataDir = await mkdtemp(join(tmpdir(), 'iocli-failover-'));
  });
  afterAll(async () => {
    stopAgent.abort();
    await agentDone?.catch(() => {});
    if (nodeId) await removeContainersByLabel(`iocli.node=${nodeId}`).catch(() => 0);
    for (const replica of replicas) await replica.close().catch(() => {});
    await storage?.release();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps the node online and its lease running after the replica in use dies', { timeout: 120_000 }, async () => {
    const image = await ensureTestImage();
    const options = { port: 0, dev: true, rateLimit: false as const, ...storage.location, heartbeatGraceMs: 2_000, sweepIntervalMs: 200 };
    replicas.push(await startCoordinator(options), await startCoordinator(options));
    const [first, second] = replicas as [CoordinatorServer, CoordinatorServer];
    const owner = newKeypair();
    const events: AgentEvent[] = [];
    const api = createApiClient({ baseUrl: `${first.url},${second.url}`, keypair: owner, timeoutMs: 5_000 });
    agentDone = startTestAgent({ api, machineId: RUN, simulate: '1:RTX4090', dataDir, signal: stopAgent.signal, events, verify: false, onNodeId: (id) => (nodeId = id) });
    await waitFor('the node to register', () => nodeId);

    const renter = createApiClient({ baseUrl: second.url, keypair: newKeypair() });
    const quote = await renter.quote({ gpus: 1, image, command: ['sleep', '600'] });
    const lease = await renter.createLease({ quoteId: quote.quoteId });
    await waitFor('the lease to run', async () => (await renter.lease(lease.id)).state === 'running', { timeoutMs: 30_000 });

    await first.close();
    // Three grace periods: without failover the sweep would take the node offline and fail the lease.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    await second.sweep();
    expect((await renter.lease(lease.id)).state).toBe('running');
    const node = await createApiClient({ baseUrl: second.url, keypair: owner }).node(nodeId!);
    expect(node.status).toBe('online');
  });

  it('a host name is expanded into the addresses it resolves to when the address the system picked is down', async () => {
    const replica = replicas.at(-1)!;
    const port = new URL(replica.url).port;
    // No DNS traffic leaves the machine: "localhost" comes from /etc/hosts, and the resolver the client expands names
    // with is injected (the system's, with every address, otherwise). The connection to whatever the system picked for
    // the name is refused here, as a dead replica's would be; the expanded address then answers over real HTTP.
    const resolved: string[] = [];
    const resolveHost = async (host: string) => {
      resolved.push(host);
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const refuseByName: typeof fetch = (input, init) =>
      new URL(String(input)).hostname === 'localhost' ? Promise.reject(new TypeError('fetch failed: connect ECONNREFUSED')) : fetch(input, init);
    const client = createApiClient({ baseUrl: `http://localhost:${port}`, resolveHost, fetch: refuseByName, timeoutMs: 5_000 });
    await expect(client.health()).resolves.toMatchObject({ status: 'ok' });
    await expect(client.offers()).resolves.toMatchObject({ offers: expect.any(Array) });
    expect(resolved).toEqual(['localhost']);
  });
});
