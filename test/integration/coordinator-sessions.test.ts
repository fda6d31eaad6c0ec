// Heartbeat sessions over real HTTP on SQLite and PostgreSQL: handshake, MACed heartbeats, replay, expiry, ownership,
// the client's transparent re-handshake, and recognition by a restarted coordinator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, ApiError } from '../../src/api/client.js';
import { createSessionKeyPair, deriveSessionKey, HeartbeatSessionClient } from '../../src/api/heartbeat-session.js';
import { startCoordinator, type CoordinatorServer } from '../../src/coordinator/server.js';
import type { Keypair } from '../../src/wallet/keypair.js';
import { createStorage, ENGINES, newKeypair, nodeSpec } from '../support/coordinator.js';

/** fetch that counts calls per path suffix, so tests can see which requests the client made. */
function countingFetch() {
  const calls: string[] = [];
  const wrapped: typeof fetch = (input, init) => {
    calls.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
    return fetch(input, init);
  };
  return { calls, fetch: wrapped, count: (suffix: string) => calls.filter((c) => c.endsWith(suffix)).length };
}

describe.each(ENGINES)('heartbeat sessions on %s', (engine) => {
  let storage: Awaited<ReturnType<typeof createStorage>>;
  let server: CoordinatorServer;
  const clock = { offset: 0 };
  const owner = newKeypair();
  const stranger = newKeypair();
  let nodeId: string;

  const start = () => startCoordinator({ port: 0, dev: true, rateLimit: false, ...storage.location, sessionTtlMs: 10 * 60_000, maxClockSkewMs: 60 * 60_000, now: () => Date.now() + clock.offset });
  const client = (keypair: Keypair, f?: typeof fetch) => createApiClient({ baseUrl: server.url, keypair, fetch: f, timeoutMs: 20_000 });

  async function rawSession(keypair: Keypair, id = nodeId) {
    const ours = createSessionKeyPair();
    const opened = await client(keypair).openHeartbeatSession(id, ours.publicKey);
    return new HeartbeatSessionClient(opened.sessionId, deriveSessionKey(ours.privateKey, opened.publicKey, { sessionId: opened.sessionId, nodeId: id }), opened.expiresAt);
  }

  async function post(path: string, body: string, headers: Record<string, string>) {
    const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: response.status, body: (await response.json()) as { error?: { code: string }; assignments?: unknown[] } };
  }

  beforeAll(async () => {
    storage = await createStorage(engine);
    server = await start();
    nodeId = (await client(owner).registerNode(nodeSpec({ machineId: `sessions-${engine}` }))).id;
  });
  afterAll(async () => {
    await server?.close().catch(() => {});
    await storage?.release();
  });

  it('opens one session per node and then sends only MACed heartbeats', async () => {
    const counter = countingFetch();
    const c = client(owner, counter.fetch);
    for (let i = 0; i < 3; i++) expect((await c.heartbeat(nodeId, { gpus: [], containers: [] })).assignments).toEqual([]);
    expect(counter.count('/sessions')).toBe(1);
    expect(counter.count('/heartbeat')).toBe(3);
  });

  it('accepts a raw session heartbeat once and rejects its replay, a tampered body and an unknown session', async () => {
    const session = await rawSession(owner);
    const path = `/v1/nodes/${nodeId}/heartbeat`;
    const body = '{"gpus":[],"containers":[]}';
    const headers = session.headers('POST', path, body);
    expect((await post(path, body, headers)).status).toBe(200);
    expect(await post(path, body, headers)).toMatchObject({ status: 401, body: { error: { code: 'REPLAYED' } } });
    const next = session.headers('POST', path, body);
    expect(await post(path, '{"gpus":[],"containers":[],"draining":false}', next)).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    expect(await post(path, body, { ...session.headers('POST', path, body), 'x-iocli-session': `hs_${'0'.repeat(32)}` })).toMatchObject({ status: 401, body: { error: { code: 'SESSION_UNKNOWN' } } });
  });

  it('refuses sessions for other owners and sessions used on another node', async () => {
    await expect(client(stranger).openHeartbeatSession(nodeId, createSessionKeyPair().publicKey)).rejects.toMatchObject({ status: 403 });
    const strangerNode = (await client(stranger).registerNode(nodeSpec({ machineId: `stranger-${engine}` }))).id;
    const session = await rawSession(owner);
    const path = `/v1/nodes/${strangerNode}/heartbeat`;
    const body = '{}';
    expect(await post(path, body, session.headers('POST', path, body))).toMatchObject({ status: 401, body: { error: { code: 'SESSION_UNKNOWN' } } });
    // A stranger's own session for its own node does not make it the owner of ours.
    const theirs = await rawSession(stranger, strangerNode);
    const ours = `/v1/nodes/${nodeId}/heartbeat`;
    expect(await post(ours, body, theirs.headers('POST', ours, body))).toMatchObject({ status: 401, body: { error: { code: 'SESSION_UNKNOWN' } } });
  });

  it('re-handshakes once when the session expired', async () => {
    const counter = countingFetch();
    const c = client(owner, counter.fetch);
    await c.heartbeat(nodeId, {});
    clock.offset = 11 * 60_000;
    try {
      // The client thinks the session is still good (its own clock); the server says expired; one new handshake follows.
      await c.heartbeat(nodeId, {});
    } finally {
      clock.offset = 0;
    }
    expect(counter.count('/sessions')).toBe(2);
    expect(counter.count('/heartbeat')).toBe(3);
  });

  it('falls back to ed25519 signatures without session headers', async () => {
    const c = createApiClient({ baseUrl: server.url, keypair: owner, heartbeatSessions: false });
    expect((await c.heartbeat(nodeId, {})).assignments).toEqual([]);
    await expect(createApiClient({ baseUrl: server.url, keypair: stranger, heartbeatSessions: false }).heartbeat(nodeId, {})).rejects.toBeInstanceOf(ApiError);
  });

  it('a restarted coordinator recognises sessions opened before the restart', async () => {
    const session = await rawSession(owner);
    const path = `/v1/nodes/${nodeId}/heartbeat`;
    expect((await post(path, '{}', session.headers('POST', path, '{}'))).status).toBe(200);
    await server.close();
    server = await start();
    // It knows the session, but not which sequence numbers the old process accepted: it names the next safe one.
    const behind = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...session.headers('POST', path, '{}') }, body: '{}' });
    const answer = (await behind.json()) as { error: { code: string; details: { nextSeq: number } } };
    expect([behind.status, answer.error.code]).toEqual([401, 'SEQ_BEHIND']);
    session.skipTo(answer.error.details.nextSeq);
    expect((await post(path, '{}', session.headers('POST', path, '{}'))).status).toBe(200);
  });
});
