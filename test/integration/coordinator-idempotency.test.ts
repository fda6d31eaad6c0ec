// A coordinator that dies mid-request leaves its Idempotency-Key record in progress: retries get 409 with Retry-After
// while the claim holds, then a retry (on a restarted process, or another replica) takes it over and finishes the request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../src/api/client.js';
import type { Lease } from '../../src/api/schemas/leases.js';
import { createSigner } from '../../src/api/signing.js';
import type { PaymentVerifier } from '../../src/coordinator/hooks.js';
import { startCoordinator, type CoordinatorServer } from '../../src/coordinator/server.js';
import { waitFor } from '../support/wait.js';
import { createStorage, ENGINES, newKeypair, nodeSpec } from '../support/coordinator.js';

describe.each(ENGINES)('idempotency records after a coordinator dies on %s', (engine) => {
  let storage: Awaited<ReturnType<typeof createStorage>>;
  const servers: CoordinatorServer[] = [];
  let releaseStuck: () => void = () => {};

  beforeAll(async () => {
    storage = await createStorage(engine);
  });
  afterAll(async () => {
    releaseStuck();
    for (const server of servers) await server.close().catch(() => {});
    await storage?.release();
  });

  it('a retry with the same key takes over a lapsed claim and gets the lease; later retries replay it', { timeout: 60_000 }, async () => {
    // The first process hangs in payment verification (as if the chain never answered), then dies.
    const stuck: PaymentVerifier = { verify: () => new Promise((_, reject) => (releaseStuck = () => reject(new Error('gone')))) };
    const claimMs = 1_500;
    const first = await startCoordinator({ port: 0, dev: true, rateLimit: false, ...storage.location, paymentVerifier: stuck, idempotencyClaimMs: claimMs, onError: () => {} });
    servers.push(first);
    const provider = newKeypair();
    const renter = newKeypair();
    const node = await createApiClient({ baseUrl: first.url, keypair: provider }).registerNode(nodeSpec({ machineId: `idem-${engine}` }));
    await createApiClient({ baseUrl: first.url, keypair: provider }).heartbeat(node.id, { gpus: [], containers: [] });
    const quote = await createApiClient({ baseUrl: first.url, keypair: renter }).quote({ gpus: 1, image: 'busybox' });

    const sign = createSigner(renter);
    const body = JSON.stringify({ quoteId: quote.quoteId, payment: { transaction: 'AQID' } });
    // Each attempt is signed afresh (a new nonce), as the CLI's retries are; only the Idempotency-Key repeats.
    const post = (url: string) => fetch(`${url}/v1/leases`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'rent-after-crash-1', ...sign('POST', '/v1/leases', body) }, body });
    const hanging = post(first.url).catch(() => undefined);
    // The claim exists once the first process is inside the request.
    const second = engine === 'postgres' ? await startCoordinator({ port: 0, dev: true, rateLimit: false, ...storage.location, idempotencyClaimMs: claimMs }) : undefined;
    if (second) servers.push(second);
    await waitFor('the first process to hold the claim', async () => {
      const response = await post((second ?? first).url);
      return response.status === 409 ? response : undefined;
    }, { timeoutMs: 10_000 }).then(async (response) => {
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('IN_PROGRESS');
    });

    // It dies: nothing renews its claim any more.
    await first.close();
    await hanging;
    const survivor = second ?? (await startCoordinator({ port: 0, dev: true, rateLimit: false, ...storage.location, idempotencyClaimMs: claimMs }));
    if (!second) servers.push(survivor);
    const finished = await waitFor('a retry to take the lapsed claim over', async () => {
      const response = await post(survivor.url);
      return response.status === 200 ? ((await response.json()) as Lease) : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250 });
    expect(finished).toMatchObject({ state: 'scheduled' });
    const replayed = await post(survivor.url);
    expect([replayed.status, replayed.headers.get('idempotent-replay'), ((await replayed.json()) as Lease).id]).toEqual([200, 'true', finished.id]);
  });
});
