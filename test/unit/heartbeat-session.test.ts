import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSessionKeyPair, deriveSessionKey, HeartbeatSessionClient, sessionMacer } from '../../src/api/heartbeat-session.js';
import { HeartbeatSessions, SEQ_BLOCK, type SessionPersistence, type StoredSession } from '../../src/coordinator/heartbeat-sessions.js';

/** The database's part, in memory: what several coordinator processes share. */
function sharedStore() {
  const saved = new Map<string, StoredSession>();
  const persistence: SessionPersistence = {
    save: async (s) => void saved.set(s.id, { ...s }),
    load: async (id) => (saved.has(id) ? { ...saved.get(id)! } : undefined),
    moveMark: async (id, from, to) => {
      const s = saved.get(id);
      if (!s || s.seqMark !== from) return false;
      s.seqMark = to;
      return true;
    },
    readMark: async (id) => saved.get(id)?.seqMark,
  };
  return { saved, persistence };
}

function setup(now = { t: 1_000_000 }, store = sharedStore()) {
  const server = new HeartbeatSessions({ ttlMs: 60_000, maxSkewMs: 5_000, now: () => now.t, persistence: store.persistence });
  return { server, saved: store.saved, store, now };
}

async function openClient(server: HeartbeatSessions, nodeId = 'node-1', owner = 'owner-1') {
  const ours = createSessionKeyPair();
  const opened = await server.open(nodeId, owner, ours.publicKey);
  const key = deriveSessionKey(ours.privateKey, opened.publicKey, { sessionId: opened.sessionId, nodeId });
  return new HeartbeatSessionClient(opened.sessionId, key, opened.expiresAt);
}

const PATH = '/v1/nodes/node-1/heartbeat';

describe('heartbeat sessions', () => {
  it('derives the same key on both sides and accepts MACed heartbeats in order', async () => {
    const { server, now } = setup();
    const client = await openClient(server);
    for (let i = 0; i < 3; i++) {
      const body = JSON.stringify({ i });
      await expect(server.authenticate('POST', PATH, 'node-1', client.headers('POST', PATH, body, now.t), body)).resolves.toEqual({ ok: true, owner: 'owner-1', nodeId: 'node-1' });
    }
  });

  it.each([
    ['a replayed request', 'REPLAYED'],
    ['a tampered body', 'UNAUTHORIZED'],
    ['another node\'s path', 'SESSION_UNKNOWN'],
    ['a stale timestamp', 'CLOCK_SKEW'],
    ['an expired session', 'SESSION_EXPIRED'],
  ])('rejects %s', async (name, code) => {
    const { server, now } = setup();
    const client = await openClient(server);
    const body = '{"gpus":[]}';
    let headers = client.headers('POST', PATH, body, now.t);
    let sentBody = body;
    let nodeId = 'node-1';
    if (name === 'a replayed request') await server.authenticate('POST', PATH, nodeId, headers, body);
    if (name === 'a tampered body') sentBody = '{"gpus":[1]}';
    if (name === "another node's path") nodeId = 'node-2';
    if (name === 'a stale timestamp') headers = client.headers('POST', PATH, body, now.t - 10_000);
    if (name === 'an expired session') now.t += 61_000;
    await expect(server.authenticate('POST', PATH, nodeId, headers, sentBody)).resolves.toMatchObject({ ok: false, code });
  });

  it('accepts requests that arrive slightly out of order, each once', async () => {
    const { server, now } = setup();
    const client = await openClient(server);
    const body = '{}';
    const first = client.headers('POST', PATH, body, now.t);
    const second = client.headers('POST', PATH, body, now.t);
    await expect(server.authenticate('POST', PATH, 'node-1', second, body)).resolves.toMatchObject({ ok: true });
    await expect(server.authenticate('POST', PATH, 'node-1', first, body)).resolves.toMatchObject({ ok: true });
    await expect(server.authenticate('POST', PATH, 'node-1', first, body)).resolves.toMatchObject({ ok: false, code: 'REPLAYED' });
    // Held back until it is far behind the newest: outside the window, refused.
    const held = client.headers('POST', PATH, body, now.t);
    for (let i = 0; i < 40; i++) await server.authenticate('POST', PATH, 'node-1', client.headers('POST', PATH, body, now.t), body);
    await expect(server.authenticate('POST', PATH, 'node-1', held, body)).resolves.toMatchObject({ ok: false, code: 'REPLAYED' });
  });

  it('recognises a persisted session after a restart (or on another replica)', async () => {
    const first = setup();
    const client = await openClient(first.server);
    const restarted = setup(first.now, first.store).server;
    const body = '{}';
    const behind = await restarted.authenticate('POST', PATH, 'node-1', client.headers('POST', PATH, body, first.now.t), body);
    expect(behind).toMatchObject({ ok: false, code: 'SEQ_BEHIND', nextSeq: SEQ_BLOCK + 1 });
    client.skipTo((behind as { nextSeq: number }).nextSeq);
    await expect(restarted.authenticate('POST', PATH, 'node-1', client.headers('POST', PATH, body, first.now.t), body)).resolves.toMatchObject({ ok: true });
  });

  it('never accepts one sequence number twice across a restart or on another process', async () => {
    const first = setup();
    const client = await openClient(first.server);
    const body = '{}';
    const captured = client.headers('POST', PATH, body, first.now.t);
    await expect(first.server.authenticate('POST', PATH, 'node-1', captured, body)).resolves.toMatchObject({ ok: true });
    // A restart and another replica each see the capture for the first time in memory: the stored mark refuses it.
    for (const other of [setup(first.now, first.store).server, setup(first.now, first.store).server]) {
      await expect(other.authenticate('POST', PATH, 'node-1', captured, body)).resolves.toMatchObject({ ok: false, code: 'SEQ_BEHIND' });
    }
  });

  it('two processes taking turns each accept only numbers the other cannot have accepted', async () => {
    const a = setup();
    const b = setup(a.now, a.store);
    const client = await openClient(a.server);
    const body = '{}';
    const accepted = new Map<string, number>();
    let refused = 0;
    for (let i = 0; i < 200; i++) {
      const server = i % 3 === 0 ? b.server : a.server;
      const headers = client.headers('POST', PATH, body, a.now.t);
      const result = await server.authenticate('POST', PATH, 'node-1', headers, body);
      if (!result.ok) {
        refused++;
        expect(result.code).toBe('SEQ_BEHIND');
        client.skipTo((result as { nextSeq: number }).nextSeq);
        continue;
      }
      // Every accepted request replayed at either process is refused.
      for (const s of [a.server, b.server]) await expect(s.authenticate('POST', PATH, 'node-1', headers, body)).resolves.toMatchObject({ ok: false });
      accepted.set(headers['x-iocli-seq']!, i);
    }
    expect(accepted.size).toBeGreaterThan(100);
    expect(refused).toBeLessThan(100);
  });
});

describe('session MAC', () => {
  // The fast path builds HMAC-SHA256 from its definition (RFC 2104); it must equal node:crypto's HMAC byte for byte.
  const reference = (key: Uint8Array, method: string, path: string, timestamp: string, seq: string, body: string) => {
    const bodyHash = createHash('sha256').update(body).digest('hex');
    return createHmac('sha256', key).update(`${method.toUpperCase()}\n${path}\n${timestamp}\n${seq}\n${bodyHash}`).digest('base64url');
  };

  it.each([
    ['POST', '/v1/nodes/node-1/heartbeat', '{"gpus":[]}'],
    ['post', '/v1/nodes/nöde-ü/heartbeat?x=1', '{"note":"ünïcödé 🚀"}'],
    ['GET', '/v1/nodes/n/assignments?after=3&waitMs=25000', ''],
  ])('equals node:crypto HMAC-SHA256 for %s %s', (method, path, body) => {
    for (const keyLength of [1, 32, 64]) {
      const key = randomBytes(keyLength);
      const macer = sessionMacer(key);
      for (let seq = 1; seq <= 3; seq++) {
        expect(macer(method, path, '1764150000000', String(seq), body)).toBe(reference(key, method, path, '1764150000000', String(seq), body));
      }
    }
  });
});
