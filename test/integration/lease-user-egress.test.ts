// A renter's `--user UID:GID` and `--no-egress`, end to end: the quote request → the lease (both engines) → the node's
// assignment → the provider agent runs the container as that user, on no network (no ports) or an internal one (ports).
// Real coordinator on loopback, real Docker engine, simulated GPUs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../src/provider/agent.js';
import { startAgentBench, type AgentBench } from '../support/agent.js';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';
import { docker, dockerInspect, ensureDocker } from '../support/docker.js';
import { waitFor } from '../support/wait.js';

const hasDocker = await ensureDocker();
const RUN = `${process.pid}-${Date.now().toString(36)}`;

describe.each(ENGINES)('lease user and egress through the coordinator on %s', (engine) => {
  let coord: TestCoordinator;
  beforeAll(async () => {
    coord = await startTestCoordinator(engine, { heartbeatGraceMs: 60_000, sweepIntervalMs: 60_000 });
  });
  afterAll(async () => {
    await coord?.close();
  });

  it('stores them with the lease and sends them in the assignment only when asked', async () => {
    const p = coord.client(newKeypair());
    const r = coord.client(newKeypair());
    const node = await p.registerNode(nodeSpec({ gpuCount: 2, model: 'NVIDIA L4', machineId: `user-egress-${engine}-${RUN}` }));
    const asked = await r.createLease({ quoteId: (await r.quote({ gpus: 1, model: 'L4', image: 'busybox', user: { uid: 1000, gid: 100 }, egress: false, ports: [22] })).quoteId });
    const plain = await r.createLease({ quoteId: (await r.quote({ gpus: 1, model: 'L4', image: 'busybox' })).quoteId });
    expect(asked).toMatchObject({ user: { uid: 1000, gid: 100 }, egress: false });
    expect(plain).toMatchObject({ user: null, egress: true });
    expect(await r.lease(asked.id)).toMatchObject({ user: { uid: 1000, gid: 100 }, egress: false });

    const { assignments } = await p.heartbeat(node.id, {});
    expect(assignments.find((a) => a.leaseId === asked.id)).toMatchObject({ user: { uid: 1000, gid: 100 }, egress: false, ports: [22] });
    // Every other lease's assignment stays byte-for-byte what it was before the options existed.
    const other = assignments.find((a) => a.leaseId === plain.id);
    expect(other).not.toHaveProperty('user');
    expect(other).not.toHaveProperty('egress');

    for (const user of [{ uid: 0, gid: 0 }, { uid: 1000, gid: 0 }, { uid: -1, gid: 5 }, { uid: 1.5, gid: 5 }]) {
      await expect(r.quote({ gpus: 1, model: 'L4', image: 'busybox', user })).rejects.toMatchObject({ status: 400 });
    }
    await r.stopLease(asked.id);
    await r.stopLease(plain.id);
  });
});

describe.skipIf(!hasDocker)('lease user and egress on a provider (real Docker, simulated GPUs)', () => {
  let bench: AgentBench;
  let coordinator: TestCoordinator;
  let image: string;
  let nodeId: string;
  let events: AgentEvent[];

  beforeAll(async () => {
    bench = await startAgentBench({
      dataDirPrefix: 'iocli-user-egress-',
      machineId: `user-egress-agent-${RUN}`,
      simulate: '2:RTX4090',
      stopWorkloadsOnExit: true,
    });
    ({ coordinator, image, nodeId, events } = bench);
  });

  afterAll(async () => {
    await bench?.close();
  });

  it('runs as the lease’s user; no egress and no ports means no network at all, with ports an internal one', async () => {
    const renter = coordinator.client(newKeypair());
    const command = ['sh', '-c', 'id -u; id -g; sleep 600'];
    const isolated = await renter.createLease({ quoteId: (await renter.quote({ gpus: 1, image, command, user: { uid: 1000, gid: 100 }, egress: false })).quoteId });
    const withPort = await renter.createLease({ quoteId: (await renter.quote({ gpus: 1, image, command, egress: false, ports: [8080] })).quoteId });

    const containerOf = async (leaseId: string) =>
      (await docker(['ps', '-q', '--no-trunc', '--filter', `label=iocli.lease=${leaseId}`, '--filter', `label=iocli.node=${nodeId}`])).stdout.trim() || undefined;
    const isolatedId = await waitFor('the isolated lease’s container', () => containerOf(isolated.id));
    const portId = await waitFor('the port lease’s container', () => containerOf(withPort.id));
    const logs = await waitFor('the ids printed', async () => {
      const out = (await docker(['logs', isolatedId])).stdout;
      return out.split('\n').length >= 3 && out;
    });
    expect(logs).toBe('1000\n100\n');

    const isolatedInspect = await dockerInspect(isolatedId);
    expect(isolatedInspect.Config.User).toBe('1000:100');
    expect(isolatedInspect.HostConfig.NetworkMode).toBe('none');

    const portInspect = await dockerInspect(portId);
    expect(portInspect.Config.User).toBe('');
    const network = JSON.parse((await docker(['network', 'inspect', portInspect.HostConfig.NetworkMode])).stdout)[0];
    expect(network).toMatchObject({ Internal: true, Labels: { 'iocli.lease': withPort.id, 'iocli.node': nodeId, 'iocli.managed': 'true' } });

    await renter.stopLease(isolated.id);
    await renter.stopLease(withPort.id);
    await waitFor('both containers gone', async () => !(await containerOf(isolated.id)) && !(await containerOf(withPort.id)) && true);
    await waitFor('the internal network gone', async () => (await docker(['network', 'inspect', portInspect.HostConfig.NetworkMode])).code !== 0 || undefined);
  }, 60_000);

  it('sweeps a lease network left without its container', async () => {
    // What an agent killed between removing a container and its network leaves behind.
    const name = `iocli-orphan-${RUN}-net`;
    expect((await docker(['network', 'create', '--label', 'iocli.managed=true', '--label', `iocli.node=${nodeId}`, '--label', 'iocli.lease=gone', name])).code).toBe(0);
    await waitFor('the sweep', async () => events.some((e) => e.type === 'network-removed' && e.network === name), { timeoutMs: 20_000 });
    expect((await docker(['network', 'inspect', name])).code).not.toBe(0);
  }, 30_000);
});
