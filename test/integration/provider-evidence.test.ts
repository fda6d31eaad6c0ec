// Evidence for paid time through the real API on SQLite and PostgreSQL: random liveness probes of running leases; an
// unanswered or failed probe stops accrual at its issue time and the minutes until a later pass are never paid to the
// provider: they are refunded to the renter (frozen minutes), once each.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKeypairFile } from '../../src/wallet/keypair.js';
import { runCli, tempHome } from '../support/cli.js';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';
import { ensureDocker, ensureTestImage } from '../support/docker.js';
import { startRelayBench, type RelayBench } from '../support/relay.js';
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
      // The agent's own report passes probes here (the subject is metering; the relay check is tested below).
      evidence: { meanIntervalMs: 1, deadlineMs: 30_000, via: 'agent-report' },
    });
  });
  afterAll(async () => {
    await coord?.close();
  });

  it('pays proven minutes only: a missed probe freezes accrual, a later pass resumes it and refunds the gap to the renter', async () => {
    const owner = newKeypair();
    const p = coord.client(owner);
    const renterKey = newKeypair();
    const r = coord.client(renterKey);
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

    // `lease show` (the spawned binary) tells the renter.
    const home = tempHome();
    try {
      const keyPath = join(home.dir, 'renter.json');
      await writeKeypairFile(keyPath, renterKey);
      const shown = await runCli(['lease', 'show', lease.id], { env: { ...home.env, IOCLI_API_URL: coord.url, IOCLI_KEYPAIR: keyPath } });
      expect(shown.stdout).toMatch(/Unproven time:\s+16 min without evidence \(liveness probes failed\): 0\.16 tokens refunded/);
    } finally {
      home.cleanup();
    }
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

describe.each(ENGINES)('liveness probes checked through the relay on %s', (engine) => {
  it("the agent's word never passes a probe; with no relay link up it fails as unreachable at its deadline", async () => {
    let clock = Date.now();
    const coord = await startTestCoordinator(engine, { now: () => clock, maxClockSkewMs: 86_400_000, heartbeatGraceMs: 86_400_000, sweepIntervalMs: 3_600_000, assignmentCacheMs: 0, feeBps: 0 });
    try {
      const p = coord.client(newKeypair());
      const r = coord.client(newKeypair());
      const node = await p.registerNode(nodeSpec({ machineId: `probe-nolink-${engine}`, gpuCount: 1, pricePerGpuHour: 600_000, region: `probe-nolink-${engine}` }));
      const lease = await r.createLease({ quoteId: (await r.quote({ gpus: 1, image: 'busybox', region: `probe-nolink-${engine}` })).quoteId });
      const beat = () => p.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }] });
      await beat();
      clock += 5 * MINUTE;
      const probe = (await coord.server.service.issueProbe(node.id))!;
      // A (modified) agent reports the container running: the probe stays open, nothing is believed.
      const said = await p.answerProbe(node.id, probe, { leases: [{ leaseId: lease.id, containerId: 'c'.repeat(64), running: true, state: 'running', startedAt: new Date(clock).toISOString() }] });
      expect(said).toMatchObject({ state: 'issued' });
      await coord.server.sweep();
      clock += 31_000;
      await beat();
      await coord.server.sweep();
      const [result] = await coord.server.service.engine.db.selectFrom('probes').select(['state', 'detail']).where('id', '=', probe).execute();
      expect(result).toMatchObject({ state: 'expired', detail: expect.stringMatching(/^unreachable/) });
      // Accrual froze at the probe's issue: 5 minutes paid; `provide why` says why.
      expect((await p.rewards()).accrued).toBe(5 * 10_000);
      const paused = (await p.nodeWhy(node.id)).reasons.find((reason) => reason.code === 'EARNING_PAUSED');
      expect(paused).toMatchObject({ message: expect.stringContaining('unreachable'), next: expect.stringContaining('relay link') });
      await r.stopLease(lease.id);
    } finally {
      await coord.close();
    }
  });
});

const hasDocker = await ensureDocker();

describe.skipIf(!hasDocker)('liveness probes checked inside the container through the relay (real agent, real Docker)', () => {
  let bench: RelayBench;
  let image: string;
  let nodeId: string;

  beforeAll(async () => {
    image = await ensureTestImage();
    bench = await startRelayBench('sqlite', { sweepIntervalMs: 3_600_000 });
    nodeId = (await bench.startAgent({ simulate: '3:RTX4090' })).nodeId;
  }, 90_000);
  afterAll(async () => {
    await bench?.close();
  });

  const probeOutcome = async (leaseId: string) => {
    const probe = (await bench.coordinator.server.service.issueProbe(nodeId))!;
    const db = bench.coordinator.server.service.engine.db;
    expect((await db.selectFrom('probes').select('leases').where('id', '=', probe).executeTakeFirstOrThrow()).leases).toContain(leaseId);
    return waitFor('the probe checked', async () => {
      await bench.coordinator.server.sweep();
      const row = await db.selectFrom('probes').select(['state', 'detail']).where('id', '=', probe).executeTakeFirst();
      return row && row.state !== 'issued' ? row : undefined;
    }, { timeoutMs: 20_000 });
  };

  it("passes when the lease's container prints the probe's nonce", async () => {
    const leaseId = await bench.runningLease({ image, command: ['sleep', '600'] });
    try {
      expect(await probeOutcome(leaseId)).toEqual({ state: 'passed', detail: null });
    } finally {
      await bench.renterApi.stopLease(leaseId);
    }
  }, 60_000);

  it('fails when what answers inside the container is not the nonce (a forged sh), and freezes accrual', async () => {
    // The container replaces its sh with a script that prints a fixed answer.
    const forge = 'rm /bin/sh && printf "#!/bin/busybox sh\\necho iocli-probe forged\\n" > /bin/sh && chmod +x /bin/sh && exec sleep 600';
    const leaseId = await bench.runningLease({ image, command: ['/bin/busybox', 'sh', '-c', forge] });
    try {
      const result = await probeOutcome(leaseId);
      expect(result).toMatchObject({ state: 'failed', detail: expect.stringContaining('not this probe') });
      const lease = await bench.coordinator.server.service.engine.db.selectFrom('leases').select('unproven_from').where('id', '=', leaseId).executeTakeFirstOrThrow();
      expect(lease.unproven_from).not.toBeNull();
    } finally {
      await bench.renterApi.stopLease(leaseId);
    }
  }, 60_000);

  it('passes an image without a shell: the container runtime entered the container (noted)', async () => {
    const leaseId = await bench.runningLease({ image, command: ['/bin/busybox', 'sh', '-c', 'rm /bin/sh && exec sleep 600'] });
    try {
      expect(await probeOutcome(leaseId)).toMatchObject({ state: 'passed', detail: expect.stringContaining('no shell in the image') });
    } finally {
      await bench.renterApi.stopLease(leaseId);
    }
  }, 60_000);
});
