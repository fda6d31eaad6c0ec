// The provider agent's long-poll, drain and verification report against a real coordinator and real Docker (simulated GPUs):
// a placed lease starts without waiting for the next heartbeat; Ctrl-C drains (no new placements, the running lease keeps
// being heartbeated until its renter stops it); the 'simulated' verification reaches the coordinator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { AgentEvent, AgentSummary } from '../../src/provider/agent.js';
import { dockerOk, ensureDocker } from '../support/docker.js';
import { newKeypair, type TestCoordinator } from '../support/coordinator.js';
import { startAgentBench, type AgentBench } from '../support/agent.js';
import { waitFor } from '../support/wait.js';

const hasDocker = await ensureDocker();
const MACHINE = `drain-test-${process.pid}-${Date.now().toString(36)}`;

describe.skipIf(!hasDocker)('provider agent: long-poll, drain, verification', () => {
  let bench: AgentBench;
  let coordinator: TestCoordinator;
  let renter: ApiClient;
  let owner: ApiClient;
  let image: string;
  let nodeId: string;
  let events: AgentEvent[];
  let agentDone: Promise<AgentSummary>;

  beforeAll(async () => {
    bench = await startAgentBench({
      coordinator: { heartbeatGraceMs: 60_000, sweepIntervalMs: 60_000 },
      dataDirPrefix: 'iocli-drain-',
      machineId: MACHINE,
      simulate: '1:RTX4090',
      registration: { pricePerGpuHour: 1, publicHost: '127.0.0.1' },
      // Long on purpose: only the long-poll can make a lease start quickly.
      heartbeatIntervalMs: 10_000,
      drainTimeoutMs: 60_000,
      verify: true,
      readyOn: 'heartbeat',
    });
    ({ coordinator, image, nodeId, events, done: agentDone } = bench);
    renter = coordinator.client(newKeypair());
    owner = coordinator.client(bench.owner);
  });

  afterAll(async () => {
    await bench?.close();
  });

  it('reports the simulated verification to the coordinator', async () => {
    await waitFor('verification sent', async () => (await owner.node(nodeId!)).verification?.kind === 'simulated');
    expect((await owner.node(nodeId!)).verified).toBe(false);
  });

  it('starts a placed lease well before the next heartbeat is due (long-poll)', async () => {
    const quote = await renter.quote({ gpus: 1, image, command: ['sleep', '600'], ports: [9] });
    const t0 = Date.now();
    const lease = await renter.createLease({ quoteId: quote.quoteId });
    await waitFor('container running', async () => (await dockerOk(['ps', '-q', '--filter', `label=iocli.lease=${lease.id}`, '--filter', 'status=running'])).trim() !== '', { timeoutMs: 8_000 });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect((await renter.lease(lease.id)).allocations[0]!.publicHost).toBe('127.0.0.1');
  });

  it('drains on abort: no new placements, the running lease is heartbeated until its renter stops it, then the agent exits', async () => {
    const [lease] = (await renter.leases()).leases;
    await waitFor('lease running on the coordinator', async () => (await renter.lease(lease!.id)).state === 'running', { timeoutMs: 15_000 });
    bench.stop();
    await waitFor('draining status', async () => (await owner.node(nodeId!)).status === 'draining', { timeoutMs: 15_000 });
    await expect(renter.quote({ gpus: 1, image })).rejects.toMatchObject({ code: 'NO_CAPACITY' });
    expect(events.find((e) => e.type === 'draining')).toMatchObject({ waitingFor: [lease!.id] });
    await coordinator.server.sweep();
    expect((await renter.lease(lease!.id)).state).toBe('running');
    let finished = false;
    void agentDone!.then(() => (finished = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(finished).toBe(false);

    await renter.stopLease(lease!.id);
    const summary = await Promise.race([agentDone!, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('agent did not finish draining')), 20_000))]);
    expect(summary.leftRunning).toEqual([]);
    expect((await dockerOk(['ps', '-aq', '--filter', `label=iocli.lease=${lease!.id}`])).trim()).toBe('');
  }, 60_000);
});
