// Evidence for paid time through the real API on SQLite and PostgreSQL: random liveness probes of running leases; an
// unanswered or failed probe stops accrual at its issue time and the minutes until a later pass are never paid to the
// provider: they are refunded to the renter (frozen minutes), once each.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../src/provider/agent.js';
import { startTestAgent } from '../support/agent.js';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';
import { ensureDocker, ensureTestImage, removeContainersByLabel } from '../support/docker.js';
import { waitFor } from '../support/wait.js';

const MINUTE = 60_000;

describe.each(ENGINES)('liveness probes on %s', (engine) => {
  let coord: TestCoordinator;
  let clock = Date.now();

  beforeAll(async () => {
    coord = await startTestCoordinator(engine, {
      now: () => clock,
      maxClockSkewMs: 10 * 86_400_000,
      feeBps: 0,
      heartbeatGraceMs: 86_400_000,
      sweepIntervalMs: 3_600_000,
      meteringIntervalMs: 0,
      assignmentCacheMs: 0,
      evidence: { meanIntervalMs: 1, deadlineMs: 30_000 },
    });
  });
  afterAll(async () => {
    await coord?.close();
  });

  it('pays proven minutes only: a missed probe freezes accrual, a later pass resumes it and refunds the gap to the renter', async () => {
    const owner = newKeypair();
    const p = coord.client(owner);
    const r = coord.client(newKeypair());
    const node = await p.registerNode(nodeSpec({ machineId: `probe-${engine}`, gpuCount: 1, pricePerGpuHour: 600_000, region: `probe-${engine}` }));
    const lease = await r.createLease({ quoteId: (await r.quote({ gpus: 1, image: 'busybox', region: `probe-${engine}`, hours: 2 })).quoteId });
    const beat = () => p.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }] });
    await beat();
    const accrued = async () => (await p.rewards()).accrued;

    // Minute 10: a probe nobody answers. The sweep expires it 31 s later; the 10 minutes before it are paid.
    clock += 10 * MINUTE;
    await beat();
    const missed = (await coord.server.service.issueProbe(node.id))!;
    expect((await beat()).probe).toMatchObject({ id: missed, leaseIds: [lease.id] });
    clock += 31_000;
    await beat();
    await coord.server.sweep();
    expect(await accrued()).toBe(10 * 10_000);

    // Ten more minutes of heartbeats "running": nothing accrues without evidence.
    clock += 10 * MINUTE;
    await beat();
    await coord.server.sweep();
    expect(await accrued()).toBe(10 * 10_000);
    expect((await p.nodeWhy(node.id)).reasons.map((reason) => reason.code)).toContain('EARNING_PAUSED');

    // A probe answered with the container running: accrual resumes from now; the gap (~10.5 min) is never paid.
    const probe = (await coord.server.service.issueProbe(node.id))!;
    const answer = await p.answerProbe(node.id, probe, { leases: [{ leaseId: lease.id, containerId: 'c'.repeat(64), running: true, state: 'running', startedAt: new Date(clock - 20 * MINUTE).toISOString() }] });
    expect(answer).toMatchObject({ state: 'passed', leaseIds: [lease.id] });
    clock += 5 * MINUTE;
    await beat();
    await coord.server.sweep();
    expect(await accrued()).toBe(15 * 10_000);

    // A probe answered "not running" fails at once, and freezes again.
    const bad = (await coord.server.service.issueProbe(node.id))!;
    expect(await p.answerProbe(node.id, bad, { leases: [{ leaseId: lease.id, containerId: 'c'.repeat(64), running: false, state: 'exited', startedAt: null }] })).toMatchObject({ state: 'failed', detail: expect.stringContaining('not running') });
    clock += 5 * MINUTE;
    await beat();
    // The frozen gap (minutes 10-20) went back to the renter when the probe passed.
    expect(await r.lease(lease.id)).toMatchObject({ frozenMinutes: 10, frozenRefund: 10 * 10_000 });
    await r.stopLease(lease.id);
    expect(await accrued()).toBe(15 * 10_000);
    // Stopped while frozen (at 30 min 31 s): the started minutes 25-31 are refunded too. Every unit of the payment is
    // accounted for: 15 paid minutes to the provider, 16 frozen ones and the 89 unused ones back to the renter.
    const ended = await r.lease(lease.id);
    expect(ended).toMatchObject({ frozenMinutes: 16, frozenRefund: 16 * 10_000, refund: 89 * 10_000, totalPaid: 120 * 10_000 });
    const db = coord.server.service.engine.db;
    const rows = await db.selectFrom('ledger').select(['kind', 'amount', 'account']).where('lease_id', '=', lease.id).where('kind', '=', 'frozen_refund').orderBy('id').execute();
    expect(rows.map((row) => [Number(row.amount), row.account])).toEqual([[10 * 10_000, lease.renter], [6 * 10_000, lease.renter]]);
    await expect(r.stopLease(lease.id)).rejects.toMatchObject({ code: 'LEASE_ENDED' });
    expect(await r.lease(lease.id)).toMatchObject({ frozenRefund: 16 * 10_000 });
    // Answering a closed probe again is refused.
    await expect(p.answerProbe(node.id, bad, { leases: [] })).rejects.toMatchObject({ code: 'PROBE_NOT_OPEN' });
  });

  it('the sweep probes nodes with running leases at random times', async () => {
    const p = coord.client(newKeypair());
    const r = coord.client(newKeypair());
    const node = await p.registerNode(nodeSpec({ machineId: `probe-random-${engine}`, gpuCount: 1, pricePerGpuHour: 600_000, region: `probe-random-${engine}` }));
    const lease = await r.createLease({ quoteId: (await r.quote({ gpus: 1, image: 'busybox', region: `probe-random-${engine}` })).quoteId });
    await p.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }] });
    await coord.server.sweep(); // first sight: schedules the first probe
    clock += 1_000;
    await p.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }] });
    await coord.server.sweep();
    expect((await p.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }] })).probe).toMatchObject({ leaseIds: [lease.id] });
    await r.stopLease(lease.id);
  });
});

const hasDocker = await ensureDocker();

describe.skipIf(!hasDocker)('the provider agent answers liveness probes from its containers', () => {
  it('passes a probe of its running lease', async () => {
    const image = await ensureTestImage();
    const coord = await startTestCoordinator('sqlite', { heartbeatGraceMs: 60_000, assignmentCacheMs: 0 });
    const dataDir = await mkdtemp(join(tmpdir(), 'iocli-probe-agent-'));
    const controller = new AbortController();
    const events: AgentEvent[] = [];
    let nodeId: string | undefined;
    const agent = startTestAgent({ api: coord.client(newKeypair()), machineId: `probe-agent-${process.pid}`, simulate: '1:RTX4090', dataDir, signal: controller.signal, events, onNodeId: (id) => (nodeId = id), longPollMs: 0, stopWorkloadsOnExit: true });
    try {
      await waitFor('registration', async () => nodeId, { timeoutMs: 20_000 });
      const r = coord.client(newKeypair());
      const lease = await r.createLease({ quoteId: (await r.quote({ gpus: 1, image, command: ['sleep', '60'] })).quoteId });
      await waitFor('the lease running', async () => ((await r.lease(lease.id)).state === 'running' ? true : undefined), { timeoutMs: 30_000 });
      const probe = (await coord.server.service.issueProbe(nodeId!))!;
      const db = coord.server.service.engine.db;
      const row = await waitFor('the probe answered', async () => {
        const p = await db.selectFrom('probes').select(['state', 'detail']).where('id', '=', probe).executeTakeFirst();
        return p && p.state !== 'issued' ? p : undefined;
      }, { timeoutMs: 15_000 });
      expect(row).toEqual({ state: 'passed', detail: null });
      await r.stopLease(lease.id);
    } finally {
      controller.abort();
      await agent.catch(() => undefined);
      if (nodeId) await removeContainersByLabel(`iocli.node=${nodeId}`).catch(() => undefined);
      await coord.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
