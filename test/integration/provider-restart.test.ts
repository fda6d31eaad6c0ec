// Restart safety with the real binary: kill -9 the agent while a lease container runs, start it again, and it re-adopts
// the same container (no second start) and keeps reporting it running; SIGTERM then drains and exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import { writeKeypairFile } from '../../src/wallet/keypair.js';
import { assertBuilt, BIN, runCli } from '../support/cli.js';
import { dockerInspect, dockerOk, ensureDocker, ensureTestImage, removeContainersByLabel } from '../support/docker.js';
import { newKeypair, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';
import { waitFor } from '../support/wait.js';

const hasDocker = await ensureDocker();
const RUN = `${process.pid}-${Date.now().toString(36)}`;

interface Agent {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

async function containersOfLease(leaseId: string): Promise<string[]> {
  return (await dockerOk(['ps', '-aq', '--no-trunc', '--filter', `label=iocli.lease=${leaseId}`])).split('\n').filter(Boolean);
}

describe.skipIf(!hasDocker)('provider agent restart safety (spawned binary)', () => {
  let coordinator: TestCoordinator;
  let renter: ApiClient;
  let home: string;
  let keypairPath: string;
  let dataDir: string;
  let nodeId: string | undefined;
  let image: string;
  const agents: Agent[] = [];

  function startAgent(): Agent {
    const child = spawn(
      process.execPath,
      [
        BIN, 'provide',
        '--simulate-gpus', '2:RTX4090', '--price', '1', '--region', 'local', '--yes',
        '--interval', '0.3', '--stop-timeout', '1', '--machine-id', `restart-${RUN}`, '--data-dir', dataDir,
        '--api-url', coordinator.url, '--keypair', keypairPath,
      ],
      { env: { ...process.env, NO_COLOR: '1', CI: '1', HOME: home, IOCLI_CONFIG_DIR: join(home, 'config') }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let text = '';
    child.stdout!.on('data', (chunk) => (text += String(chunk)));
    child.stderr!.on('data', (chunk) => (text += String(chunk)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const agent = { child, output: () => text, exited };
    agents.push(agent);
    return agent;
  }

  beforeAll(async () => {
    assertBuilt();
    image = await ensureTestImage();
    coordinator = await startTestCoordinator('sqlite', { heartbeatGraceMs: 60_000, assignmentCacheMs: 0 });
    renter = coordinator.client(newKeypair());
    home = await mkdtemp(join(tmpdir(), 'iocli-restart-'));
    dataDir = join(home, 'provider');
    keypairPath = join(home, 'provider.json');
    await writeKeypairFile(keypairPath, newKeypair());
  });

  afterAll(async () => {
    for (const agent of agents) if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
    if (nodeId) await removeContainersByLabel(`iocli.node=${nodeId}`);
    await coordinator?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('re-adopts its running container after kill -9 without starting a second one', async () => {
    const first = startAgent();
    const registered = await waitFor('registration', () => /Registered as node (\S+)/.exec(first.output()) ?? undefined);
    nodeId = registered[1]!;
    expect(first.output()).toMatch(/SIMULATED/);

    const quote = await renter.quote({ gpus: 1, image, command: ['sh', '-c', 'echo started; sleep 600'] });
    const lease = await renter.createLease({ quoteId: quote.quoteId });
    await waitFor('the lease running', async () => (await renter.lease(lease.id)).state === 'running');
    const [containerId] = await containersOfLease(lease.id);
    const startedAt = (await dockerInspect(containerId!)).State.StartedAt;

    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    expect((await dockerInspect(containerId!)).State.Running).toBe(true);

    const second = startAgent();
    await waitFor('re-adoption', () => second.output().includes(`Re-adopted 1 container from a previous run: ${lease.id} (running)`));
    expect(second.output()).toContain(`Registered as node ${nodeId}`);
    // Several heartbeats and reconciles later: still the one container, never restarted, and the lease still running.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await containersOfLease(lease.id)).toEqual([containerId]);
    const info = await dockerInspect(containerId!);
    expect(info.State.Running).toBe(true);
    expect(info.State.StartedAt).toBe(startedAt);
    expect((await renter.lease(lease.id)).state).toBe('running');
    expect(second.output()).not.toMatch(new RegExp(`Lease ${lease.id} running: container`));
    // Logs printed before the crash were shipped once, not again by the second agent.
    const entries = (await renter.leaseLogs(lease.id)).entries.filter((e) => e.data.includes('started'));
    expect(entries).toHaveLength(1);

    // `provide status` and `provide logs` read the same data directory.
    const cliEnv = { HOME: home, IOCLI_CONFIG_DIR: join(home, 'config') };
    const common = ['--data-dir', dataDir, '--api-url', coordinator.url, '--keypair', keypairPath];
    const status = await runCli(['provide', 'status', '--json', ...common], { env: cliEnv });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      nodeId,
      simulated: true,
      agent: { running: true },
      gpus: [{ uuid: `SIM-restart-${RUN}-0` }, { uuid: `SIM-restart-${RUN}-1` }],
      leases: [{ leaseId: lease.id, state: 'running' }],
      earnings: { accrued: expect.any(Number) },
      // The coordinator's view (GET /v1/nodes/:id): a loopback coordinator makes 127.0.0.1 the default public host.
      source: 'coordinator',
      status: 'online',
      publicHost: '127.0.0.1',
      assignedLeases: [{ id: lease.id, state: 'running' }],
    });
    // Coordinator unreachable: local data, said so.
    const offline = await runCli(['provide', 'status', '--json', '--data-dir', dataDir, '--api-url', 'http://127.0.0.1:9', '--keypair', keypairPath], { env: cliEnv });
    expect(offline.code).toBe(0);
    expect(JSON.parse(offline.stdout)).toMatchObject({ nodeId, source: 'local', status: null, coordinatorError: expect.any(String), gpus: [{ uuid: `SIM-restart-${RUN}-0` }, { uuid: `SIM-restart-${RUN}-1` }] });
    const agentLog = await runCli(['provide', 'logs', '--data-dir', dataDir], { env: cliEnv });
    expect(agentLog.stdout).toMatch(/Re-adopted 1 container/);
    const leaseLog = await runCli(['provide', 'logs', '--lease', lease.id, '--data-dir', dataDir], { env: cliEnv });
    expect(leaseLog.stdout).toBe('started\n');

    // The restarted agent still converges: stopping the lease removes the container.
    await renter.stopLease(lease.id);
    await waitFor('the container to be removed', async () => (await containersOfLease(lease.id)).length === 0);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain('Agent stopped.');
  }, 90_000);
});
