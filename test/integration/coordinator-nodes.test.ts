// Node features over real HTTP on SQLite and PostgreSQL: the assignments long-poll, drain, GPU verification, the owner's
// node view and public hosts on leases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator } from '../../src/coordinator/server.js';
import { answerChallenge } from '../support/challenges.js';
import { createStorage, ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

describe.each(ENGINES)('node features on %s', (engine) => {
  let coord: TestCoordinator;
  const provider = newKeypair();
  const renter = newKeypair();
  const stranger = newKeypair();

  beforeAll(async () => {
    coord = await startTestCoordinator(engine, { heartbeatGraceMs: 60_000, sweepIntervalMs: 60_000, assignmentCacheMs: 60_000 });
  });
  afterAll(async () => {
    await coord?.close();
  });

  it('answers a long-poll as soon as a lease is placed on the node, and at the timeout otherwise', async () => {
    const p = coord.client(provider);
    const node = await p.registerNode(nodeSpec({ machineId: `poll-${engine}`, pricePerGpuHour: 1, publicHost: 'gpu-1.example.net' }));
    const first = await p.heartbeat(node.id, {});
    expect(first.version).toEqual(expect.any(String));
    // Unchanged: waits out the timeout and returns the same version.
    const t0 = Date.now();
    const idle = await p.assignments(node.id, { after: first.version, waitMs: 300 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(idle).toEqual({ assignments: [], version: first.version, challenge: first.challenge });

    const waiting = p.assignments(node.id, { after: first.version, waitMs: 20_000 });
    await new Promise((r) => setTimeout(r, 100));
    const r = coord.client(renter);
    const quote = await r.quote({ gpus: 1, image: 'busybox:latest', ports: [8080], maxPrice: 1 });
    const placedAt = Date.now();
    const lease = await r.createLease({ quoteId: quote.quoteId });
    const changed = await waiting;
    expect(Date.now() - placedAt).toBeLessThan(2_000);
    expect(changed.version).not.toBe(first.version);
    expect(changed.assignments.map((a) => a.leaseId)).toEqual([lease.id]);

    // Public host travels with the lease's allocations.
    expect(lease.allocations[0]).toMatchObject({ nodeId: node.id, publicHost: 'gpu-1.example.net' });

    // The owner's view of the node lists the lease; strangers are refused.
    const detail = await p.node(node.id);
    expect(detail).toMatchObject({ id: node.id, status: 'online', publicHost: 'gpu-1.example.net', verified: false });
    expect(detail.leases.map((l) => l.id)).toEqual([lease.id]);
    await expect(coord.client(stranger).node(node.id)).rejects.toMatchObject({ status: 403 });
    await expect(coord.client(stranger).assignments(node.id, {})).rejects.toMatchObject({ status: 403 });
    await r.stopLease(lease.id);
  });

  it('drains: no new placements, running leases continue, status says draining', async () => {
    const p = coord.client(provider);
    const node = await p.registerNode(nodeSpec({ machineId: `drain-${engine}`, pricePerGpuHour: 2, gpuCount: 2, model: 'NVIDIA A100-SXM4-80GB' }));
    const r = coord.client(renter);
    const lease = await r.createLease({ quoteId: (await r.quote({ gpus: 1, model: 'A100', image: 'busybox:latest', maxPrice: 2 })).quoteId });
    expect(lease.allocations[0]!.nodeId).toBe(node.id);
    await p.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }] });

    await p.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }], draining: true });
    expect((await p.node(node.id)).status).toBe('draining');
    expect((await coord.client().offers({})).offers.some((o) => o.nodeId === node.id)).toBe(false);
    await expect(r.quote({ gpus: 1, model: 'A100', image: 'busybox:latest', maxPrice: 2 })).rejects.toMatchObject({ code: 'NO_CAPACITY' });
    // Still heartbeating while draining: its lease keeps running and the sweep leaves it alone.
    await coord.server.sweep();
    expect((await r.lease(lease.id)).state).toBe('running');
    expect((await p.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }], draining: true })).assignments.map((a) => a.leaseId)).toEqual([lease.id]);

    // Registering again (the agent restarted) ends the drain.
    await p.registerNode(nodeSpec({ machineId: `drain-${engine}`, pricePerGpuHour: 2, gpuCount: 2, model: 'NVIDIA A100-SXM4-80GB' }));
    expect((await p.node(node.id)).status).toBe('online');
    await r.stopLease(lease.id);
  });

  it('records a self-reported GPU benchmark for display only; simulated GPUs pass the labelled CPU stand-in', async () => {
    const p = coord.client(provider);
    const real = await p.registerNode(nodeSpec({ machineId: `verify-${engine}`, simulated: false, pricePerGpuHour: 3 }));
    expect(real.verified).toBe(false);
    await p.heartbeat(real.id, { verification: { kind: 'benchmark', tflops: 40, expectedTflops: 165, passed: false } });
    expect(await p.node(real.id)).toMatchObject({ verified: false, verification: { kind: 'benchmark', passed: false } });
    // A passed benchmark the node reports about itself is stored and shown, but verifies nothing (coordinator challenges do).
    await p.heartbeat(real.id, { verification: { kind: 'benchmark', tflops: 160, expectedTflops: 165, passed: true } });
    expect(await p.node(real.id)).toMatchObject({ verified: false, verification: { kind: 'benchmark', passed: true } });
    const offers = (await coord.client().offers({ maxPrice: 3 })).offers;
    // A --dev coordinator still offers it, labelled.
    expect(offers.find((o) => o.nodeId === real.id)).toMatchObject({ verified: false, verification: 'unverified', challenge: null });

    const sim = await p.registerNode(nodeSpec({ machineId: `verify-sim-${engine}`, pricePerGpuHour: 3, verification: { kind: 'simulated' } }));
    expect(sim).toMatchObject({ simulated: true, verified: false, verification: { kind: 'simulated' } });
    // A simulated node never becomes verified, whatever it claims.
    await p.heartbeat(sim.id, { verification: { kind: 'benchmark', tflops: 999, expectedTflops: 165, passed: true } });
    expect((await p.node(sim.id)).verified).toBe(false);
    expect(await answerChallenge(p, sim.id)).toMatchObject({ state: 'passed', kind: 'cpu-stand-in' });
    const simOffer = (await coord.client().offers({ maxPrice: 3 })).offers.find((o) => o.nodeId === sim.id);
    expect(simOffer).toMatchObject({ verified: false, verification: 'simulated', challenge: 'cpu-stand-in' });
  });

  it('only a --dev coordinator accepts a simulated verification', async () => {
    const storage = await createStorage(engine);
    const prod = await startCoordinator({ port: 0, dev: false, rateLimit: false, ...storage.location });
    try {
      const { createApiClient } = await import('../../src/api/client.js');
      const p = createApiClient({ baseUrl: prod.url, keypair: provider });
      await expect(p.registerNode(nodeSpec({ simulated: false, verification: { kind: 'simulated' } }))).rejects.toMatchObject({ code: 'SIMULATED_REFUSED' });
      const node = await p.registerNode(nodeSpec({ simulated: false }));
      await expect(p.heartbeat(node.id, { verification: { kind: 'simulated' } })).rejects.toMatchObject({ code: 'SIMULATED_REFUSED' });
      await p.heartbeat(node.id, { verification: { kind: 'benchmark', tflops: 80, expectedTflops: 82.6, passed: true } });
      // Stored for display; verification comes only from a coordinator challenge (test/integration/provider-trust.test.ts).
      expect(await p.node(node.id)).toMatchObject({ verified: false, verification: { kind: 'benchmark', passed: true } });
    } finally {
      await prod.close();
      await storage.release();
    }
  });
});
