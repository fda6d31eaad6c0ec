// Lease isolation as a node reports it: `provide --preflight`'s checks on this machine's real dockerd and firewall, and
// the report carried by the coordinator (both engines) into offers and the lease's allocations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerRuntime } from '../../src/docker/runtime.js';
import { gatherIsolationFacts } from '../../src/provider/lease-isolation.js';
import { parseSimulateGpus } from '../../src/provider/options.js';
import { runProviderPreflight } from '../../src/provider/preflight.js';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';
import { docker, ensureDocker } from '../support/docker.js';

const hasDocker = await ensureDocker();
const RUN = `${process.pid}-${Date.now().toString(36)}`;

describe.skipIf(!hasDocker)('lease isolation preflight (real dockerd)', () => {
  it('reports root remapping, the lease network and the limits dockerd can grant, each with its fix', async () => {
    const runtime = createDockerRuntime();
    const preflight = await runProviderPreflight({
      runtime,
      simulate: parseSimulateGpus('1:RTX4090'),
      diskPath: '/',
      isolation: (found) => gatherIsolationFacts(runtime, found),
    });
    const checks = Object.fromEntries(preflight.checks.map((c) => [c.id, c]));
    expect(Object.keys(checks)).toEqual(expect.arrayContaining(['lease-user', 'lease-network', 'lease-limits']));
    for (const id of ['lease-user', 'lease-network', 'lease-limits']) {
      expect(['ok', 'warn']).toContain(checks[id]!.status);
      if (checks[id]!.status === 'warn') expect(checks[id]!.hint).toBeTruthy();
    }

    // What this machine's daemon really is, read independently of the code under test.
    const security = JSON.parse((await docker(['info', '--format', '{{json .SecurityOptions}}'])).stdout) as string[];
    const remapped = security.some((o) => o.includes('name=userns') || o.includes('name=rootless'));
    expect(checks['lease-user']!.status).toBe(remapped ? 'ok' : 'warn');
    expect(preflight.isolation).toMatchObject({ network: 'own', rootRemapped: remapped });
    const daemon = await runtime.daemonProcess();
    if (daemon?.args.includes('--iptables=false')) {
      expect(checks['lease-network']).toMatchObject({ status: 'warn', message: expect.stringContaining('--iptables=false') });
      expect(preflight.isolation!.lanBlocked).toBe(false);
    }
    if (daemon && !daemon.canRaiseLimits && daemon.hardLimits.memlock !== -1) {
      expect(checks['lease-limits']).toMatchObject({ status: 'warn', message: expect.stringContaining(`memlock ${daemon.hardLimits.memlock / 1024 / 1024} MiB`) });
    }
  });

  it('leaves the checks out without the isolation option (GPU-only callers keep their list)', async () => {
    const preflight = await runProviderPreflight({ runtime: createDockerRuntime(), simulate: parseSimulateGpus('1:RTX4090'), diskPath: '/' });
    expect(preflight.checks.map((c) => c.id)).not.toContain('lease-network');
    expect(preflight).not.toHaveProperty('isolation');
  });
});

describe.each(ENGINES)('node isolation through the coordinator on %s', (engine) => {
  let coord: TestCoordinator;
  beforeAll(async () => {
    coord = await startTestCoordinator(engine, { heartbeatGraceMs: 60_000, sweepIntervalMs: 60_000 });
  });
  afterAll(async () => {
    await coord?.close();
  });

  it('shows the reported isolation with offers and the lease; a node without a report is null', async () => {
    const p = coord.client(newKeypair());
    const r = coord.client(newKeypair());
    const isolation = { network: 'own' as const, rootRemapped: true, lanBlocked: false };
    const fenced = await p.registerNode({ ...nodeSpec({ gpuCount: 1, model: 'NVIDIA A100', machineId: `iso-a-${RUN}`, pricePerGpuHour: 1 }), isolation });
    const silent = await p.registerNode(nodeSpec({ gpuCount: 1, model: 'NVIDIA A100', machineId: `iso-b-${RUN}`, pricePerGpuHour: 2 }));
    const { offers } = await r.offers({ model: 'A100' });
    expect(offers.find((o) => o.nodeId === fenced.id)?.isolation).toEqual(isolation);
    expect(offers.find((o) => o.nodeId === silent.id)?.isolation).toBeNull();

    const lease = await r.createLease({ quoteId: (await r.quote({ gpus: 1, model: 'A100', image: 'busybox' })).quoteId });
    expect(lease.allocations).toEqual([expect.objectContaining({ nodeId: fenced.id, isolation })]);
    expect((await r.lease(lease.id)).allocations[0]!.isolation).toEqual(isolation);
    await expect(p.registerNode({ ...nodeSpec({ machineId: `iso-c-${RUN}` }), isolation: { ...isolation, network: 'host' as never } })).rejects.toMatchObject({ status: 400 });
    await r.stopLease(lease.id);
  });
});
