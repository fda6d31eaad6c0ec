// Every coordinator endpoint over real HTTP, on SQLite and on PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, ApiError } from '../../src/api/client.js';
import { signRequest } from '../../src/api/signing.js';
import { ExternalError } from '../../src/errors.js';
import { answerChallenge, bondAll } from '../support/challenges.js';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

async function rawPost(url: string, path: string, body: string, headers: Record<string, string>) {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string } } };
}

describe.each(ENGINES)('coordinator API on %s', (engine) => {
  let coord: TestCoordinator;
  const provider = newKeypair();
  const renter = newKeypair();
  const stranger = newKeypair();

  beforeAll(async () => {
    coord = await startTestCoordinator(engine, { heartbeatGraceMs: 60_000, sweepIntervalMs: 60_000 });
  });
  afterAll(async () => {
    await coord?.close();
  });

  it('serves health, network, openapi and metrics', async () => {
    const client = coord.client();
    expect(await client.health()).toMatchObject({ status: 'ok', engine });
    expect(await client.network()).toMatchObject({ decimals: 6, feeBps: 500, dev: true });
    const doc = (await (await fetch(`${coord.url}/v1/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/nodes', '/v1/leases/quote', '/v1/offers', '/v1/rewards/claim']));
    const metrics = await (await fetch(`${coord.url}/metrics`)).text();
    expect(metrics).toContain('iocli_http_requests_total{');
    expect(metrics).toContain('iocli_nodes{status="online"}');
    expect(metrics).toContain('iocli_leases{state="running"}');
  });

  it('runs the lease lifecycle: register → offers → quote → lease → heartbeat → running → logs → extend → stop', async () => {
    const p = coord.client(provider);
    const r = coord.client(renter);
    const node = await p.registerNode(nodeSpec({ gpuCount: 4, machineId: 'lifecycle', pricePerGpuHour: 2_000_000 }));
    expect(node).toMatchObject({ owner: provider.publicKey, status: 'online', simulated: true });
    expect(node.gpus).toHaveLength(4);
    // Re-registering the same machine updates the node in place.
    const again = await p.registerNode(nodeSpec({ gpuCount: 4, machineId: 'lifecycle', pricePerGpuHour: 1_500_000 }));
    expect(again.id).toBe(node.id);
    expect(again.pricePerGpuHour).toBe(1_500_000);

    const { offers } = await coord.client().offers({ model: '4090', gpus: 2 });
    expect(offers.find((o) => o.nodeId === node.id)).toMatchObject({ freeGpus: 4, pricePerGpuHour: 1_500_000 });

    const quote = await r.quote({ gpus: 2, model: '4090', hours: 2, image: 'busybox:latest', command: ['sleep', '60'], env: { A: '1' }, ports: [8080] });
    expect(quote).toMatchObject({ gpus: 2, hours: 2, perHour: 3_000_000, total: 6_000_000, fee: 300_000 });
    expect(quote.placement[0]!.nodeId).toBe(node.id);

    const lease = await r.createLease({ quoteId: quote.quoteId });
    expect(lease).toMatchObject({ state: 'scheduled', renter: renter.publicKey, totalPaid: 6_000_000, gpus: 2 });
    expect(lease.allocations[0]!.gpuUuids).toHaveLength(2);

    const hb = await p.heartbeat(node.id, { gpus: [], containers: [] });
    expect(hb.assignments).toHaveLength(1);
    expect(hb.assignments[0]).toMatchObject({ leaseId: lease.id, image: 'busybox:latest', command: ['sleep', '60'], env: { A: '1' }, ports: [8080] });
    expect(hb.assignments[0]!.gpuUuids).toEqual(lease.allocations[0]!.gpuUuids);
    // Not asked for: writable, and the assignment stays as it was before the option existed.
    expect(lease.readOnlyRoot).toBe(false);
    expect(hb.assignments[0]).not.toHaveProperty('readOnlyRoot');

    await p.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }], logs: [{ leaseId: lease.id, stream: 'stdout', data: 'hello\n' }] });
    expect((await r.lease(lease.id)).state).toBe('running');

    await p.uploadLogs(node.id, lease.id, { chunks: [{ stream: 'stderr', data: 'warn\n' }, { data: 'bye\n' }] });
    const logs = await r.leaseLogs(lease.id);
    expect(logs.entries.map((e) => e.data)).toEqual(['hello\n', 'warn\n', 'bye\n']);
    const tail = await r.leaseLogs(lease.id, { tail: 1 });
    expect(tail.entries.map((e) => e.data)).toEqual(['bye\n']);
    expect((await r.leaseLogs(lease.id, { since: tail.cursor })).entries).toEqual([]);

    const extended = await r.extendLease(lease.id, { hours: 1 });
    expect(extended).toMatchObject({ hours: 3, totalPaid: 9_000_000 });

    expect((await r.leases()).leases.map((l) => l.id)).toContain(lease.id);
    const stopped = await r.stopLease(lease.id);
    expect(stopped.lease.state).toBe('stopped');
    expect(stopped.refund).toBeGreaterThan(8_900_000);
    expect((await r.leases()).leases.map((l) => l.id)).not.toContain(lease.id);
    expect((await r.leases({ all: true })).leases.map((l) => l.id)).toContain(lease.id);
    expect((await p.heartbeat(node.id, {})).assignments).toEqual([]);
    // GPUs are free again.
    const after = await coord.client().offers({ model: '4090' });
    expect(after.offers.find((o) => o.nodeId === node.id)?.freeGpus).toBe(4);
  });

  it('carries readOnlyRoot from the quote request to the lease and the node\'s assignments', async () => {
    const p = coord.client(provider);
    const r = coord.client(renter);
    const node = await p.registerNode(nodeSpec({ gpuCount: 2, model: 'NVIDIA L4', machineId: 'read-only-root' }));
    const readOnly = await r.createLease({ quoteId: (await r.quote({ gpus: 1, model: 'L4', image: 'busybox', readOnlyRoot: true })).quoteId });
    const writable = await r.createLease({ quoteId: (await r.quote({ gpus: 1, model: 'L4', image: 'busybox' })).quoteId });
    expect(readOnly.readOnlyRoot).toBe(true);
    expect(writable.readOnlyRoot).toBe(false);
    expect((await r.lease(readOnly.id)).readOnlyRoot).toBe(true);
    expect((await r.leases()).leases.find((l) => l.id === readOnly.id)?.readOnlyRoot).toBe(true);

    const { assignments } = await p.heartbeat(node.id, {});
    expect(assignments.find((a) => a.leaseId === readOnly.id)?.readOnlyRoot).toBe(true);
    expect(assignments.find((a) => a.leaseId === writable.id)).not.toHaveProperty('readOnlyRoot');
    expect((await p.assignments(node.id, {})).assignments.find((a) => a.leaseId === readOnly.id)?.readOnlyRoot).toBe(true);

    const doc = (await (await fetch(`${coord.url}/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(JSON.stringify(doc.paths['/v1/leases/quote'])).toContain('readOnlyRoot');
    await expect(r.quote({ gpus: 1, model: 'L4', image: 'busybox', readOnlyRoot: 'yes' as never })).rejects.toMatchObject({ status: 400 });
    await r.stopLease(readOnly.id);
    await r.stopLease(writable.id);
  });

  it('completes a lease whose container exits 0 and fails one that exits non-zero', async () => {
    const p = coord.client(provider);
    const r = coord.client(renter);
    const node = await p.registerNode(nodeSpec({ gpuCount: 2, model: 'NVIDIA A100', machineId: 'exit-codes' }));
    const a = await r.createLease({ quoteId: (await r.quote({ gpus: 1, model: 'A100', image: 'busybox' })).quoteId });
    const b = await r.createLease({ quoteId: (await r.quote({ gpus: 1, model: 'A100', image: 'busybox' })).quoteId });
    await p.heartbeat(node.id, { containers: [{ leaseId: a.id, state: 'running' }, { leaseId: b.id, state: 'running' }] });
    const reply = await p.heartbeat(node.id, { containers: [{ leaseId: a.id, state: 'exited', exitCode: 0 }, { leaseId: b.id, state: 'exited', exitCode: 3 }] });
    expect(reply.assignments).toEqual([]);
    expect((await r.lease(a.id)).state).toBe('completed');
    const failed = await r.lease(b.id);
    expect(failed.state).toBe('failed');
    expect(failed.failureReason).toContain('exit code 3');
  });

  it('explains why nothing fits', async () => {
    const r = coord.client(renter);
    const error = await r.quote({ gpus: 64, model: '4090', image: 'busybox' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.status).toBe(409);
    expect(apiError.code).toBe('NO_CAPACITY');
    expect(apiError.exitCode).toBe(4);
    expect(apiError.details).toMatchObject({ requested: { gpus: 64 }, excluded: expect.arrayContaining([expect.objectContaining({ filter: 'gpus per node' })]) });
    expect((apiError.details as { bestAlternative: { model: string } }).bestAlternative.model).toContain('4090');
    const byPrice = (await r.quote({ gpus: 1, model: '4090', maxPrice: 1, image: 'busybox' }).catch((e: unknown) => e)) as ApiError;
    expect((byPrice.details as { excluded: Array<{ filter: string }> }).excluded.map((e) => e.filter)).toContain('maxPrice');
  });

  it('spans nodes with multiNode', async () => {
    const p = coord.client(provider);
    const r = coord.client(renter);
    await p.registerNode(nodeSpec({ gpuCount: 2, model: 'NVIDIA H100', machineId: 'h100-a', pricePerGpuHour: 3_000_000 }));
    await p.registerNode(nodeSpec({ gpuCount: 2, model: 'NVIDIA H100', machineId: 'h100-b', pricePerGpuHour: 3_000_000 }));
    await expect(r.quote({ gpus: 3, model: 'H100', image: 'busybox' })).rejects.toMatchObject({ code: 'NO_CAPACITY' });
    const quote = await r.quote({ gpus: 3, model: 'H100', image: 'busybox', multiNode: true });
    expect(quote.placement).toHaveLength(2);
    const lease = await r.createLease({ quoteId: quote.quoteId });
    expect(lease.allocations.reduce((n, a) => n + a.gpuUuids.length, 0)).toBe(3);
    await r.stopLease(lease.id);
  });

  it('validates input with 400s that say what is wrong', async () => {
    const r = coord.client(renter);
    await expect(r.quote({ gpus: 0, image: 'busybox' })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('gpus') });
    await expect(r.quote({ gpus: 1, hours: 10_000, image: 'busybox' })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('hours') });
    await expect(r.quote({ gpus: 1, image: 'bad image; rm -rf /' })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('image') });
    await expect(coord.client(provider).registerNode({ ...nodeSpec(), gpus: [] })).rejects.toMatchObject({ status: 400 });
    await expect(coord.client().offers({ sort: 'nope' as 'price' })).rejects.toMatchObject({ status: 400 });
    const body = '{not json';
    const bad = await rawPost(coord.url, '/v1/leases/quote', body, { ...signRequest(renter, { method: 'POST', path: '/v1/leases/quote', body }) });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe('BAD_JSON');
    const huge = JSON.stringify({ chunks: [{ data: 'x'.repeat(2 * 1024 * 1024) }] });
    const big = await fetch(`${coord.url}/v1/nodes/x/leases/y/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge });
    expect(big.status).toBe(413);
  });

  it('rejects bad signatures, skewed clocks, replays and other owners', async () => {
    const body = JSON.stringify({ gpus: 1, image: 'busybox' });
    const path = '/v1/leases/quote';
    const unsigned = await rawPost(coord.url, path, body, {});
    expect(unsigned.status).toBe(401);

    const headers = signRequest(renter, { method: 'POST', path, body });
    const tampered = await rawPost(coord.url, path, JSON.stringify({ gpus: 2, image: 'busybox' }), { ...headers });
    expect(tampered.status).toBe(401);
    expect(tampered.body.error?.code).toBe('UNAUTHORIZED');

    const old = signRequest(renter, { method: 'POST', path, body, timestamp: Date.now() - 5 * 60_000 });
    expect((await rawPost(coord.url, path, body, { ...old })).body.error?.code).toBe('CLOCK_SKEW');

    const once = signRequest(renter, { method: 'POST', path, body });
    expect((await rawPost(coord.url, path, body, { ...once })).status).toBe(200);
    const replay = await rawPost(coord.url, path, body, { ...once });
    expect(replay.status).toBe(401);
    expect(replay.body.error?.code).toBe('REPLAYED');

    // The signature covers the query string.
    const listPath = '/v1/leases?all=1';
    const listHeaders = signRequest(renter, { method: 'GET', path: '/v1/leases' });
    expect((await fetch(`${coord.url}${listPath}`, { headers: { ...listHeaders } })).status).toBe(401);

    const p = coord.client(provider);
    const node = await p.registerNode(nodeSpec({ machineId: 'owned' }));
    await expect(coord.client(stranger).heartbeat(node.id, {})).rejects.toMatchObject({ status: 403 });
    const r = coord.client(renter);
    const lease = await r.createLease({ quoteId: (await r.quote({ gpus: 1, image: 'busybox', model: '4090' })).quoteId });
    await expect(coord.client(stranger).stopLease(lease.id)).rejects.toMatchObject({ status: 403 });
    await expect(coord.client(stranger).lease(lease.id)).rejects.toMatchObject({ status: 403 });
    await expect(coord.client(stranger).extendLease(lease.id, { hours: 1 })).rejects.toMatchObject({ status: 403 });
    await expect(coord.client(stranger).uploadLogs(node.id, lease.id, { chunks: [{ data: 'x' }] })).rejects.toMatchObject({ status: 403 });
    await expect(coord.client(stranger).createLease({ quoteId: (await r.quote({ gpus: 1, image: 'busybox' })).quoteId })).rejects.toMatchObject({ status: 403 });
    await expect(coord.client(provider).heartbeat('node_missing', {})).rejects.toMatchObject({ status: 404 });
    await r.stopLease(lease.id);
  });

  it('replays the first response for a repeated Idempotency-Key', async () => {
    await coord.client(provider).registerNode(nodeSpec({ machineId: 'idem', gpuCount: 2 }));
    const r = coord.client(renter);
    const quote = await r.quote({ gpus: 1, image: 'busybox' });
    const first = await r.createLease({ quoteId: quote.quoteId }, { idempotencyKey: 'key-1' });
    const second = await r.createLease({ quoteId: quote.quoteId }, { idempotencyKey: 'key-1' });
    expect(second.id).toBe(first.id);
    // Without the key the quote is already used.
    await expect(r.createLease({ quoteId: quote.quoteId })).rejects.toMatchObject({ code: 'QUOTE_USED' });
    // A key belongs to one wallet: another renter with the same key is a different request.
    await expect(coord.client(stranger).createLease({ quoteId: quote.quoteId }, { idempotencyKey: 'key-1' })).rejects.toMatchObject({ status: 403 });
    await r.stopLease(first.id);
  });

  it('refuses simulated GPUs without --dev, and unpaid leases without a verifier', async () => {
    // Test-sized GPU challenges (work scaled down, checks unchanged): a CPU answers them honestly.
    const prod = await startTestCoordinator(engine, { dev: false, challenges: { workScale: 1e-9 } });
    try {
      const error = (await prod.client(provider).registerNode(nodeSpec({ simulated: true })).catch((e: unknown) => e)) as ApiError;
      expect(error.status).toBe(403);
      expect(error.message).toContain('--dev');
      const real = await prod.client(provider).registerNode(nodeSpec({ simulated: false, machineId: 'real' }));
      expect(await answerChallenge(prod.client(provider), real.id)).toMatchObject({ state: 'passed' });
      // Without a payment verifier nothing can be bonded, so nothing is offered either.
      await expect(prod.client(provider).bond(real.id, {})).rejects.toMatchObject({ code: 'PAYMENTS_UNAVAILABLE' });
      await expect(prod.client(renter).quote({ gpus: 1, image: 'busybox' })).rejects.toMatchObject({ code: 'NO_CAPACITY' });
      await expect(prod.client(provider).claimRewards()).rejects.toBeInstanceOf(ExternalError);
    } finally {
      await prod.close();
    }
  });

  it('takes payments through the PaymentVerifier and refuses a reused payment', async () => {
    const verified: string[] = [];
    const paid = await startTestCoordinator(engine, {
      dev: false,
      challenges: { workScale: 1e-9 },
      paymentVerifier: {
        verify: async (request) => {
          if (request.transaction === 'bad') throw new Error('wrong mint');
          verified.push(request.reference);
          return { signature: `sig-${request.transaction}`, amount: request.amount };
        },
      },
    });
    try {
      const node = await paid.client(provider).registerNode(nodeSpec({ simulated: false, machineId: 'paid', gpuCount: 2 }));
      expect(await answerChallenge(paid.client(provider), node.id)).toMatchObject({ state: 'passed' });
      await bondAll(paid.client(provider), node.id, 'bond-tx');
      const r = paid.client(renter);
      const q1 = await r.quote({ gpus: 1, image: 'busybox' });
      await expect(r.createLease({ quoteId: q1.quoteId })).rejects.toMatchObject({ status: 402, code: 'PAYMENT_REQUIRED' });
      await expect(r.createLease({ quoteId: q1.quoteId, payment: { transaction: 'bad' } })).rejects.toMatchObject({ code: 'PAYMENT_REJECTED' });
      const lease = await r.createLease({ quoteId: q1.quoteId, payment: { transaction: 'tx1' } });
      expect(lease.paymentSignature).toBe('sig-tx1');
      expect(verified).toEqual([expect.stringMatching(/^bond:/), q1.quoteId]);
      const q2 = await r.quote({ gpus: 1, image: 'busybox' });
      await expect(r.createLease({ quoteId: q2.quoteId, payment: { transaction: 'tx1' } })).rejects.toMatchObject({ code: 'PAYMENT_REUSED' });
    } finally {
      await paid.close();
    }
  });

  it('accrues rewards for confirmed running minutes and pays claims through the PayoutSender exactly once', async () => {
    let clock = Date.now();
    const sent: Array<{ owner: string; amount: number }> = [];
    const c = await startTestCoordinator(engine, {
      now: () => clock,
      // The test moves the server clock; requests are still signed with the real one.
      maxClockSkewMs: 3_600_000,
      feeBps: 1000,
      payoutSender: {
        prepare: async (p) => ({ signedTransaction: Buffer.from(JSON.stringify(p)).toString('base64'), signature: `payout-${p.claimId}`, lastValidBlockHeight: 100 }),
        send: async (prepared) => {
          sent.push(JSON.parse(Buffer.from(prepared.signedTransaction, 'base64').toString()) as { owner: string; amount: number });
          return 'confirmed';
        },
        status: async () => 'confirmed',
      },
    });
    try {
      const owner = newKeypair();
      const p = c.client(owner);
      const r = c.client(renter);
      const node = await p.registerNode(nodeSpec({ gpuCount: 1, pricePerGpuHour: 600_000, machineId: 'earner' }));
      const lease = await r.createLease({ quoteId: (await r.quote({ gpus: 1, image: 'busybox', hours: 1 })).quoteId });
      await p.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }] });
      clock += 10 * 60_000 + 5_000;
      await p.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }] });
      await expect(p.claimRewards()).rejects.toMatchObject({ code: 'NOTHING_TO_CLAIM' });
      const stop = await r.stopLease(lease.id);
      // Stopped while running after 10 min 5 s: 11 started minutes at 600_000/h = 110_000 gross, 10% fee → 99_000 net,
      // the same 11 minutes the renter is billed for; the unused 49 minutes go back to the renter.
      expect(await p.rewards()).toMatchObject({ owner: owner.publicKey, accrued: 99_000, claimed: 0, pending: 0, claimable: 99_000 });
      expect(stop.refund).toBe(600_000 - Math.ceil((600_000 * 11) / 60));
      const claims = await Promise.allSettled([p.claimRewards(), p.claimRewards(), p.claimRewards()]);
      const ok = claims.filter((x) => x.status === 'fulfilled');
      expect(ok).toHaveLength(1);
      expect(sent).toEqual([{ claimId: expect.any(String), owner: owner.publicKey, amount: 99_000 }]);
      expect(await p.rewards()).toMatchObject({ accrued: 99_000, claimed: 99_000, claimable: 0 });
    } finally {
      await c.close();
    }
  });

  it('takes a node offline after the grace period and fails its leases with a refund', async () => {
    const c = await startTestCoordinator(engine, { heartbeatGraceMs: 300, sweepIntervalMs: 100, heartbeatFlushMs: 50 });
    try {
      const p = c.client(provider);
      const r = c.client(renter);
      const node = await p.registerNode(nodeSpec({ gpuCount: 1, machineId: 'flaky' }));
      const lease = await r.createLease({ quoteId: (await r.quote({ gpus: 1, image: 'busybox' })).quoteId });
      await p.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }] });
      await new Promise((resolve) => setTimeout(resolve, 900));
      const failed = await r.lease(lease.id);
      expect(failed.state).toBe('failed');
      expect(failed.failureReason).toContain('offline');
      expect(failed.refund).toBeGreaterThan(0);
      expect((await c.client().offers()).offers.find((o) => o.nodeId === node.id)).toBeUndefined();
      // A heartbeat brings it back.
      await p.heartbeat(node.id, {});
      expect((await c.client().offers()).offers.find((o) => o.nodeId === node.id)?.freeGpus).toBe(1);
    } finally {
      await c.close();
    }
  });

  it('rate-limits per client address', async () => {
    const c = await startTestCoordinator(engine, { rateLimit: { perAddress: { perSecond: 1, burst: 3 } } });
    try {
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => c.client().offers()));
      expect(results.filter((x) => x.status === 'rejected').length).toBeGreaterThan(0);
    } finally {
      await c.close();
    }
  });
});

describe('client', () => {
  it('says how to fix an unreachable coordinator', async () => {
    const client = createApiClient({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 2_000 });
    const error = (await client.health().catch((e: unknown) => e)) as ExternalError;
    expect(error).toBeInstanceOf(ExternalError);
    expect(error.message).toBe('Cannot reach the coordinator at http://127.0.0.1:9.');
    expect(error.hint).toContain('iocli network up');
  });
});
