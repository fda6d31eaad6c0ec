// Rate-limit abuse over real HTTP: rotating unverified headers, locking a victim out by naming its key, health checks
// under load, and clients behind a trusted reverse proxy.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
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

describe('rate limits', () => {
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
