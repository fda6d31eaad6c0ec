// Captured node requests (a session heartbeat, a signed heartbeat, a signed assignments request) replayed after a
// coordinator restart and, on PostgreSQL, on other replicas of the same database: each is refused, while the real agent's
// client keeps working across the restart and across replicas.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../src/api/client.js';
import { createSessionKeyPair, deriveSessionKey, HeartbeatSessionClient } from '../../src/api/heartbeat-session.js';
import { createSigner } from '../../src/api/signing.js';
import { startCoordinator, type CoordinatorServer } from '../../src/coordinator/server.js';
import { createStorage, ENGINES, newKeypair, nodeSpec } from '../support/coordinator.js';

interface Captured {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body: string;
  headers: Record<string, string>;
}

async function send(url: string, request: Captured): Promise<{ status: number; code?: string }> {
  const response = await fetch(`${url}${request.path}`, {
    method: request.method,
    headers: { ...(request.method === 'POST' ? { 'content-type': 'application/json' } : {}), ...request.headers },
    body: request.method === 'POST' ? request.body : undefined,
  });
  const body = (await response.json()) as { error?: { code: string } };
  return { status: response.status, code: body.error?.code };
}

describe.each(ENGINES)('replay of captured node requests on %s', (engine) => {
  let storage: Awaited<ReturnType<typeof createStorage>>;
  const servers: CoordinatorServer[] = [];
  const owner = newKeypair();
  let nodeId: string;
  let closedFirst: CoordinatorServer | undefined;

  const start = async () => {
    const server = await startCoordinator({ port: 0, dev: true, rateLimit: false, ...storage.location });
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    storage = await createStorage(engine);
  });
  afterAll(async () => {
    for (const server of servers) await server.close().catch(() => {});
    await storage?.release();
  });

  it('refuses each captured request after a restart and on every other replica', async () => {
    let first = await start();
    nodeId = (await createApiClient({ baseUrl: first.url, keypair: owner }).registerNode(nodeSpec({ machineId: `replay-${engine}` }))).id;
    const ours = createSessionKeyPair();
    const opened = await createApiClient({ baseUrl: first.url, keypair: owner }).openHeartbeatSession(nodeId, ours.publicKey);
    const session = new HeartbeatSessionClient(opened.sessionId, deriveSessionKey(ours.privateKey, opened.publicKey, { sessionId: opened.sessionId, nodeId }), opened.expiresAt);
    const sign = createSigner(owner);
    const heartbeatPath = `/v1/nodes/${nodeId}/heartbeat`;
    const assignmentsPath = `/v1/nodes/${nodeId}/assignments?waitMs=0`;
    const body = '{"gpus":[],"containers":[]}';
    const captured: Captured[] = [
      { name: 'session heartbeat', method: 'POST', path: heartbeatPath, body, headers: session.headers('POST', heartbeatPath, body) },
      { name: 'signed heartbeat', method: 'POST', path: heartbeatPath, body, headers: { ...sign('POST', heartbeatPath, body) } },
      { name: 'signed assignments', method: 'GET', path: assignmentsPath, body: '', headers: { ...sign('GET', assignmentsPath, '') } },
    ];
    for (const request of captured) expect([request.name, (await send(first.url, request)).status]).toEqual([request.name, 200]);
    for (const request of captured) expect([request.name, (await send(first.url, request)).status]).toEqual([request.name, 401]);

    const replicas = engine === 'postgres' ? [await start(), await start()] : [];
    for (const replica of replicas) {
      for (const request of captured) expect([request.name, (await send(replica.url, request)).status]).toEqual([request.name, 401]);
    }

    await first.close();
    closedFirst = first;
    first = await start();
    for (const request of captured) expect([request.name, (await send(first.url, request)).status]).toEqual([request.name, 401]);
  });

  it("the agent's client keeps heartbeating over one session across replicas and a restart", async () => {
    const live = servers.filter((s) => s !== closedFirst);
    // One client, one session: each request goes where `target` points (a replica, or the restarted process).
    let target = live[0]!.url;
    const routed: typeof fetch = (input, init) => fetch(String(input).replace(/^http:\/\/[^/]+/, target), init);
    const agent = createApiClient({ baseUrl: target, keypair: owner, fetch: routed, timeoutMs: 10_000 });
    const beat = () => expect(agent.heartbeat(nodeId, { gpus: [], containers: [] })).resolves.toMatchObject({ assignments: [] });
    for (let round = 0; round < 9; round++) {
      target = live[round % live.length]!.url;
      await beat();
    }
    const last = live.at(-1)!;
    await last.close();
    target = (await start()).url;
    await beat();
    await beat();
  });
});
