// The provider agent against a real coordinator on loopback and the real Docker engine (simulated GPUs):
// lease assigned → container running with the security profile → logs reach the renter → lease stopped → container gone;
// exit codes end leases; containers that are not this node's survive every reconcile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import { createDockerRuntime } from '../../src/docker/runtime.js';
import type { AgentEvent, AgentSummary } from '../../src/provider/agent.js';
import { simulatedGpus, parseSimulateGpus } from '../../src/provider/options.js';
import { docker, dockerInspect, dockerOk, ensureDocker, ensureTestImage } from '../support/docker.js';
import { newKeypair } from '../support/coordinator.js';
import { startAgentBench, startTestAgent, type AgentBench } from '../support/agent.js';
import { waitFor } from '../support/wait.js';

const hasDocker = await ensureDocker();
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const MACHINE = `agent-test-${RUN}`;
const FOREIGN_NODE = `node_foreign_${RUN}`;

function gpusOf(machine: string): string[] {
  return simulatedGpus(machine, parseSimulateGpus('2:RTX4090')).map((g) => g.uuid);
}

async function containersOfLease(leaseId: string): Promise<string[]> {
  return (await dockerOk(['ps', '-aq', '--no-trunc', '--filter', `label=iocli.lease=${leaseId}`])).split('\n').filter(Boolean);
}

describe.skipIf(!hasDocker)('provider agent (real coordinator, real Docker, simulated GPUs)', () => {
  let bench: AgentBench;
  let renter: ApiClient;
  let dataDir: string;
  let image: string;
  let nodeId: string;
  let events: AgentEvent[];
  let agentDone: Promise<AgentSummary>;
  let agentApi: ApiClient;
  const foreignIds: string[] = [];

  beforeAll(async () => {
    image = await ensureTestImage();

    // Host safety fixtures: an unlabelled container and one labelled for another node.
    foreignIds.push((await dockerOk(['run', '-d', '--network', 'none', '--name', `plain-${RUN}`, image, 'sleep', '600'])).trim());
    foreignIds.push(
      (
        await dockerOk([
          'run', '-d', '--network', 'none', '--name', `other-node-${RUN}`,
          '--label', 'iocli.managed=true', '--label', `iocli.node=${FOREIGN_NODE}`, '--label', 'iocli.lease=lease_foreign',
          image, 'sleep', '600',
        ])
      ).trim(),
    );

    bench = await startAgentBench({
      dataDirPrefix: 'iocli-agent-',
      machineId: MACHINE,
      simulate: '2:RTX4090',
      stopTimeoutSec: 1,
      verify: true,
    });
    ({ dataDir, nodeId, events, done: agentDone, agentApi } = bench);
    renter = bench.coordinator.client(newKeypair());
  });

  it('registers simulated GPUs and reports them as simulated, never benchmarked', async () => {
    const verification = await waitFor('verification', async () => events.find((e) => e.type === 'verification'));
    expect(verification).toEqual({ type: 'verification', results: gpusOf(MACHINE).map((uuid) => ({ uuid, status: 'simulated' })) });
  });

  afterAll(async () => {
    try {
      await bench?.close();
    } finally {
      if (foreignIds.length > 0) await docker(['rm', '-f', ...foreignIds]);
    }
  });

  it('runs an assigned lease with the security profile, ships its logs, and removes it when stopped', async () => {
    const quote = await renter.quote({ gpus: 1, image, command: ['sh', '-c', 'echo hello from the lease; sleep 600'], env: { GREETING: 'hi' } });
    const lease = await renter.createLease({ quoteId: quote.quoteId });

    const [containerId] = await waitFor('the lease container', async () => {
      const ids = await containersOfLease(lease.id);
      return ids.length > 0 && ids;
    });
    const inspect = await waitFor('the container running', async () => {
      const info = await dockerInspect(containerId!);
      return info.State.Running && info;
    });
    expect(await containersOfLease(lease.id)).toHaveLength(1);
    expect(inspect.HostConfig.CapDrop).toEqual(['ALL']);
    expect(inspect.HostConfig.SecurityOpt).toContain('no-new-privileges');
    expect(inspect.HostConfig.Privileged).toBe(false);
    expect(inspect.Mounts).toEqual([]);
    expect(inspect.HostConfig.Binds ?? []).toEqual([]);
    // Egress by default: the lease's own network, never the host's; removed with the container below.
    expect(inspect.HostConfig.NetworkMode).toBe(`${inspect.Name.replace(/^\//, '')}-net`);
    expect((await docker(['network', 'inspect', inspect.HostConfig.NetworkMode])).code).toBe(0);
    expect(inspect.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(inspect.HostConfig.NanoCpus).toBe(500_000_000);
    expect(inspect.HostConfig.PidsLimit).toBe(128);
    expect(inspect.HostConfig.RestartPolicy.Name).toBe('no');
    // Simulated GPUs: no device request at all.
    expect(inspect.HostConfig.DeviceRequests ?? []).toEqual([]);
    expect(inspect.Config.Labels).toMatchObject({ 'iocli.managed': 'true', 'iocli.lease': lease.id, 'iocli.node': nodeId });
    expect(inspect.Config.Env).toContain('GREETING=hi');

    await waitFor('the coordinator to see the lease running', async () => (await renter.lease(lease.id)).state === 'running');
    const logs = await waitFor('logs to reach the renter', async () => {
      const entries = (await renter.leaseLogs(lease.id)).entries;
      return entries.some((e) => e.data.includes('hello from the lease')) && entries;
    });
    // Shipped once, even over many heartbeats.
    await new Promise((resolve) => setTimeout(resolve, 800));
    const again = (await renter.leaseLogs(lease.id)).entries.filter((e) => e.data.includes('hello from the lease'));
    expect(again).toHaveLength(1);
    expect(logs[0]!.stream).toBe('stdout');

    await renter.stopLease(lease.id);
    await waitFor('the container to be removed', async () => (await containersOfLease(lease.id)).length === 0, { timeoutMs: 20_000 });
    // The event follows the network's removal, which comes after the container's.
    await waitFor('the removal event', async () => events.some((e) => e.type === 'container-removed' && e.leaseId === lease.id));
    expect((await docker(['network', 'inspect', inspect.HostConfig.NetworkMode])).code).not.toBe(0);
  }, 60_000);

  it('reports a non-zero exit code: the lease fails with it and the container goes', async () => {
    const quote = await renter.quote({ gpus: 1, image, command: ['sh', '-c', 'echo about to fail >&2; exit 3'] });
    const lease = await renter.createLease({ quoteId: quote.quoteId });
    const ended = await waitFor('the lease to fail', async () => {
      const current = await renter.lease(lease.id);
      return current.state === 'failed' && current;
    });
    expect(ended.failureReason).toMatch(/exit code 3/);
    await waitFor('the container to be removed', async () => (await containersOfLease(lease.id)).length === 0);
    const entries = (await renter.leaseLogs(lease.id)).entries;
    expect(entries.some((e) => e.stream === 'stderr' && e.data.includes('about to fail'))).toBe(true);
  }, 60_000);

  it('never touches an unlabelled container or one labelled for another node', async () => {
    // Both tests above ran full reconciles (starts, stops, removals) with these containers present.
    for (const id of foreignIds) {
      const info = await dockerInspect(id);
      expect(info.State.Running).toBe(true);
    }
    const runtime = createDockerRuntime({ nodeId: nodeId! });
    expect((await runtime.listManaged()).map((c) => c.id)).not.toContain(foreignIds[0]);
    await expect(runtime.stop(foreignIds[1]!, 0)).rejects.toMatchObject({ code: 'CONTAINER_NOT_MANAGED' });
    await expect(runtime.remove(foreignIds[0]!)).rejects.toMatchObject({ code: 'CONTAINER_NOT_MANAGED' });
  });

  it('drains on abort: leaves running workloads for the next start', async () => {
    const quote = await renter.quote({ gpus: 1, image, command: ['sleep', '600'] });
    const lease = await renter.createLease({ quoteId: quote.quoteId });
    await waitFor('the lease running', async () => (await renter.lease(lease.id)).state === 'running');
    bench.stop();
    const summary = await agentDone;
    expect(summary.leftRunning).toEqual([lease.id]);
    expect(await containersOfLease(lease.id)).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: 'stopped' });

    // A second agent for the same machine re-adopts it; with --stop-workloads its drain stops and removes it.
    const second = new AbortController();
    const secondEvents: AgentEvent[] = [];
    const done = startTestAgent({
      api: agentApi,
      machineId: MACHINE,
      simulate: '2:RTX4090',
      dataDir,
      signal: second.signal,
      events: secondEvents,
      stopWorkloadsOnExit: true,
    });
    const adopted = await waitFor('re-adoption', async () => secondEvents.find((e) => e.type === 'adopted'));
    expect(adopted).toMatchObject({ containers: [{ leaseId: lease.id, state: 'running' }] });
    await waitFor('a heartbeat', async () => secondEvents.some((e) => e.type === 'heartbeat'));
    expect(await containersOfLease(lease.id)).toHaveLength(1);
    second.abort();
    expect((await done).stoppedLeases).toEqual([lease.id]);
    expect(await containersOfLease(lease.id)).toEqual([]);
  }, 60_000);
});
