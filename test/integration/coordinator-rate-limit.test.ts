// Rate-limit abuse over real HTTP: rotating unverified headers, locking a victim out by naming its key, health checks
// under load, and clients behind a trusted reverse proxy.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApiClient } from '../../src/api/client.js';
import { createSigner } from '../../src/api/signing.js';
import type { CoordinatorOptions } from '../../src/coordinator/server.js';
import { newKeypair, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

let coordinator: TestCoordinator | undefined;
afterEach(async () => {
  await coordinator?.close();
  coordinator = undefined;
});

const start = async (options: CoordinatorOptions) => (coordinator = await startTestCoordinator('sqlite', options));

async function statuses(n: number, send: (i: number) => Promise<Response>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send(i)).status);
  return out;
}

/** A WebSocket upgrade's refusal: status, Retry-After and the error code (or 101 when it opened). */
function upgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; retryAfter?: string; code?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), { headers });
    ws.once('open', () => {
      ws.terminate();
      resolve({ status: 101 });
    });
    ws.once('unexpected-response', (_request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error: { code: string } };
        resolve({ status: response.statusCode!, retryAfter: response.headers['retry-after'], code: body.error.code });
        ws.terminate();
      });
    });
    ws.once('error', (error) => reject(error));
  });
}

describe('rate limits', () => {
  it('WebSocket upgrades (the relay routes) take from the same per-address bucket as every other request', async () => {
    const c = await start({ rateLimit: { perAddress: { perSecond: 0.001, burst: 4 } } });
    expect((await fetch(`${c.url}/v1/offers`)).status).toBe(200);
    const refusals = [];
    for (let i = 0; i < 4; i++) refusals.push(await upgrade(`${c.url}/v1/leases/lease_1/exec?cmd=true`));
    // Unsigned: refused by authentication until the bucket is empty, then by the limit, with the same error body.
    expect(refusals.map((r) => [r.status, r.code])).toEqual([[401, 'UNAUTHORIZED'], [401, 'UNAUTHORIZED'], [401, 'UNAUTHORIZED'], [429, 'RATE_LIMITED']]);
    expect(refusals[3]!.retryAfter).toBe('1');
    expect((await fetch(`${c.url}/v1/offers`)).status).toBe(429);
  });

  it('a signed WebSocket upgrade takes from its wallet\'s bucket; a plain GET on a WebSocket route is a 426', async () => {
    const c = await start({ rateLimit: { perAddress: { perSecond: 1_000, burst: 1_000 }, perIdentity: { perSecond: 0.001, burst: 2 } } });
    const sign = createSigner(newKeypair());
    const path = '/v1/nodes/node_missing/relay';
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await upgrade(`${c.url}${path}`, { ...sign('GET', path, '') })).code);
    expect(codes).toEqual(['NOT_FOUND', 'NOT_FOUND', 'RATE_LIMITED']);
    const plain = await fetch(`${c.url}${path}`);
    expect(plain.status).toBe(426);
    expect(await plain.json()).toMatchObject({ error: { code: 'UPGRADE_REQUIRED' } });
  });

  it('rotating x-iocli-pubkey or x-iocli-session headers on unsigned routes buys no extra requests', async () => {
    const c = await start({ rateLimit: { perAddress: { perSecond: 0.001, burst: 5 } } });
    const codes = await statuses(20, (i) => fetch(`${c.url}/v1/offers`, { headers: i % 2 ? { 'x-iocli-pubkey': randomBytes(32).toString('hex') } : { 'x-iocli-session': `hs_${randomBytes(16).toString('hex')}` } }));
    expect(codes.filter((s) => s === 200)).toHaveLength(5);
    expect(codes.filter((s) => s === 429)).toHaveLength(15);
  });

  it("unsigned or forged requests naming a victim's key do not lock the victim out", async () => {
    const c = await start({ rateLimit: { perAddress: { perSecond: 1_000, burst: 1_000 }, perIdentity: { perSecond: 0.001, burst: 3 } } });
    const victim = newKeypair();
    const forger = createSigner(newKeypair());
    await statuses(30, () => fetch(`${c.url}/v1/offers`, { headers: { 'x-iocli-pubkey': victim.publicKey } }));
    // Signed by someone else but naming the victim: the signature fails before the victim's bucket is touched.
    const forged = await statuses(30, () => fetch(`${c.url}/v1/leases`, { headers: { ...forger('GET', '/v1/leases', ''), 'x-iocli-pubkey': victim.publicKey } }));
    expect(new Set(forged)).toEqual(new Set([401]));
    const client = createApiClient({ baseUrl: c.url, keypair: victim });
    for (let i = 0; i < 3; i++) await expect(client.leases()).resolves.toMatchObject({ leases: [] });
    // The victim's own fourth request is over its own limit.
    await expect(client.leases()).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('health checks are not limited, so a load balancer keeps seeing the replica under load', async () => {
    const c = await start({ rateLimit: { perAddress: { perSecond: 0.001, burst: 2 } } });
    await statuses(5, () => fetch(`${c.url}/v1/offers`));
    expect(new Set(await statuses(20, () => fetch(`${c.url}/healthz`)))).toEqual(new Set([200]));
  });

  it('behind a trusted proxy each client has its own bucket; X-Forwarded-For from anyone else is ignored', async () => {
    const limits = { rateLimit: { perAddress: { perSecond: 0.001, burst: 3 } } };
    const viaProxy = (from: string) => fetch(`${coordinator!.url}/v1/offers`, { headers: { 'x-forwarded-for': from } });
    await start({ ...limits, trustedProxies: ['127.0.0.1'] });
    expect(await statuses(4, () => viaProxy('198.51.100.7'))).toEqual([200, 200, 200, 429]);
    expect(await statuses(3, () => viaProxy('198.51.100.8'))).toEqual([200, 200, 200]);
    await coordinator!.close();
    await start(limits);
    // Not trusted: rotating the header changes nothing, the peer address is the key.
    expect(await statuses(4, (i) => viaProxy(`198.51.100.${i}`))).toEqual([200, 200, 200, 429]);
  });
});
