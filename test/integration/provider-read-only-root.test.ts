// A renter's read-only root, end to end: quote with readOnlyRoot → lease → the node's assignment → the provider agent
// starts the container with a read-only root filesystem and a writable /tmp tmpfs; a lease without it stays writable.
// Real coordinator on loopback, real Docker engine, simulated GPUs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { AgentEvent } from '../../src/provider/agent.js';
import { docker, dockerInspect, dockerOk, ensureDocker } from '../support/docker.js';
import { newKeypair } from '../support/coordinator.js';
import { startAgentBench, type AgentBench } from '../support/agent.js';
import { waitFor } from '../support/wait.js';

const hasDocker = await ensureDocker();
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const MACHINE = `ro-root-test-${RUN}`;

// The workload reports what it can write: its own output is what the renter would see.
const PROBE = [
  'sh',
  '-c',
  'if touch /tmp/probe; then echo tmp=writable; else echo tmp=readonly; fi; ' +
    'if touch /probe 2>/dev/null; then echo root=writable; else echo root=readonly; fi; sleep 600',
];

describe.skipIf(!hasDocker)('read-only root (real coordinator, real Docker, simulated GPUs)', () => {
  let bench: AgentBench;
  let renter: ApiClient;
  let image: string;
  let nodeId: string;
  let events: AgentEvent[];

  beforeAll(async () => {
    // The node's own policy stays writable (startTestAgent's limits): read-only comes from the lease alone.
    bench = await startAgentBench({
      dataDirPrefix: 'iocli-ro-root-',
      machineId: MACHINE,
      simulate: '2:RTX4090',
      stopWorkloadsOnExit: true,
    });
    ({ image, nodeId, events } = bench);
    renter = bench.coordinator.client(newKeypair());
  });

  afterAll(async () => {
    await bench?.close();
  });

  async function runningContainer(leaseId: string): Promise<any> {
    return waitFor(
      `the container of ${leaseId} running`,
      async () => {
        const [id] = (await dockerOk(['ps', '-q', '--no-trunc', '--filter', `label=iocli.lease=${leaseId}`])).split('\n').filter(Boolean);
        if (!id) return undefined;
        const info = await dockerInspect(id);
        return info.State.Running && info;
      },
      { context: () => JSON.stringify(events.filter((e) => e.type.startsWith('container')).slice(-5)) },
    );
  }

  async function probeOutput(leaseId: string): Promise<string> {
    return waitFor('the probe output to reach the renter', async () => {
      const text = (await renter.leaseLogs(leaseId)).entries.map((e) => e.data).join('');
      return text.includes('root=') && text;
    });
  }

  it('starts a readOnlyRoot lease read-only with a writable /tmp, and a lease without it writable', async () => {
    const readOnly = await renter.createLease({ quoteId: (await renter.quote({ gpus: 1, image, command: PROBE, readOnlyRoot: true })).quoteId });
    const writable = await renter.createLease({ quoteId: (await renter.quote({ gpus: 1, image, command: PROBE })).quoteId });
    expect(readOnly.readOnlyRoot).toBe(true);
    expect(writable.readOnlyRoot).toBe(false);

    const ro = await runningContainer(readOnly.id);
    expect(ro.HostConfig.ReadonlyRootfs).toBe(true);
    expect(Object.keys(ro.HostConfig.Tmpfs ?? {})).toEqual(['/tmp']);
    expect(ro.HostConfig.Tmpfs['/tmp']).toContain('rw');
    // The rest of the security profile is unchanged by the option.
    expect(ro.HostConfig.CapDrop).toEqual(['ALL']);
    expect(ro.HostConfig.SecurityOpt).toContain('no-new-privileges');
    expect(ro.Mounts.filter((m: { Type: string }) => m.Type !== 'tmpfs')).toEqual([]);

    const rw = await runningContainer(writable.id);
    expect(rw.HostConfig.ReadonlyRootfs).toBe(false);
    expect(rw.HostConfig.Tmpfs ?? {}).toEqual({});

    const roOut = await probeOutput(readOnly.id);
    expect(roOut).toContain('tmp=writable');
    expect(roOut).toContain('root=readonly');
    const rwOut = await probeOutput(writable.id);
    expect(rwOut).toContain('tmp=writable');
    expect(rwOut).toContain('root=writable');

    // Checked from outside too: the engine refuses writes to the read-only root, /tmp takes them.
    expect((await docker(['exec', ro.Id, 'touch', '/etc/probe'])).code).not.toBe(0);
    expect((await docker(['exec', ro.Id, 'touch', '/tmp/probe-exec'])).code).toBe(0);

    await renter.stopLease(readOnly.id);
    await renter.stopLease(writable.id);
    await waitFor(
      'both containers removed',
      async () => (await dockerOk(['ps', '-aq', '--filter', `label=iocli.node=${nodeId}`])).trim() === '',
      { timeoutMs: 20_000 },
    );
  }, 60_000);
});
