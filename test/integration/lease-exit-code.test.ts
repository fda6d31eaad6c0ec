// Batch jobs in the coordinator over real HTTP on SQLite and PostgreSQL: a workload that exits by itself ends its lease
// (exit 0 completed, any other code failed) with the exit code, start and end times kept; unused time is refunded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

describe.each(ENGINES)('lease exit codes on %s', (engine) => {
  let coord: TestCoordinator;
  const provider = newKeypair();
  const renter = newKeypair();

  beforeAll(async () => {
    coord = await startTestCoordinator(engine, { heartbeatGraceMs: 60_000, sweepIntervalMs: 60_000, assignmentCacheMs: 0 });
  });
  afterAll(async () => {
    await coord?.close();
  });

  async function runningLease(machineId: string) {
    const p = coord.client(provider);
    await p.registerNode(nodeSpec({ machineId, gpuCount: 1, pricePerGpuHour: 1_000_000 }));
    const r = coord.client(renter);
    const lease = await r.createLease({ quoteId: (await r.quote({ gpus: 1, image: 'busybox:latest', hours: 1 })).quoteId });
    // Earlier tests' nodes are free again: the lease may land on any of this provider's nodes.
    const node = { id: lease.allocations[0]!.nodeId };
    await p.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }] });
    return { p, r, node, lease };
  }

  it.each([
    [0, 'completed', null],
    [3, 'failed', 'container exited with exit code 3'],
  ] as const)('a container that exits %i by itself ends its lease %s, keeping the code and times, refunding unused time', async (exitCode, state, reason) => {
    const { p, r, node, lease } = await runningLease(`exit-${exitCode}-${engine}`);
    expect((await r.lease(lease.id)).exitCode).toBeNull();
    await p.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'exited', exitCode }] });
    const ended = await r.lease(lease.id);
    expect(ended).toMatchObject({ state, exitCode, failureReason: reason });
    expect(ended.startedAt).not.toBeNull();
    expect(ended.stoppedAt).not.toBeNull();
    expect(ended.refund).toBeGreaterThan(0);
    expect((await r.leases({ all: true })).leases.find((l) => l.id === lease.id)).toMatchObject({ exitCode });
  });

  it('a job that starts and exits between two heartbeats still gets its start and end times', async () => {
    const p = coord.client(provider);
    await p.registerNode(nodeSpec({ machineId: `short-${engine}`, gpuCount: 1, pricePerGpuHour: 1_000_000 }));
    const r = coord.client(renter);
    const lease = await r.createLease({ quoteId: (await r.quote({ gpus: 1, image: 'busybox:latest', hours: 1 })).quoteId });
    await p.heartbeat(lease.allocations[0]!.nodeId, { containers: [{ leaseId: lease.id, state: 'exited', exitCode: 0 }] });
    const ended = await r.lease(lease.id);
    expect(ended).toMatchObject({ state: 'completed', exitCode: 0 });
    expect(ended.startedAt).not.toBeNull();
    expect(Date.parse(ended.startedAt!)).toBeLessThanOrEqual(Date.parse(ended.stoppedAt!));
  });

  it('a lease its renter stops has no exit code', async () => {
    const { r, lease } = await runningLease(`stopped-${engine}`);
    await r.stopLease(lease.id);
    expect(await r.lease(lease.id)).toMatchObject({ state: 'stopped', exitCode: null });
  });
});
