// Relay failures with real processes: the coordinator (`iocli coordinator start`) and the provider agent
// (`iocli provide`) are spawned binaries, killed with SIGKILL mid-stream. The renter's `lease exec` must end with a clear
// error within seconds (never hang), and after a restart a new stream works.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient } from '../../src/api/client.js';
import { generateKeypair, writeKeypairFile } from '../../src/wallet/keypair.js';
import { docker, ensureDocker, ensureTestImage } from '../support/docker.js';
import { freePort } from '../support/ports.js';
import { spawnCli, type BackgroundCli } from '../support/processes.js';
import { iocli } from '../support/relay.js';
import { waitFor } from '../support/wait.js';

const hasDocker = await ensureDocker();

describe.skipIf(!hasDocker)('relay failures with spawned coordinator and agent processes', () => {
  let dir: string;
  let port: number;
  let url: string;
  let coordinator: BackgroundCli | undefined;
  let provider: BackgroundCli | undefined;
  let renterApi: ApiClient;
  let leaseId: string;
  let nodeId: string | undefined;
  const env: Record<string, string> = {};
  const machineId = `relay-fail-${randomBytes(4).toString('hex')}`;

  const startCoordinator = async () => {
    coordinator = spawnCli(['coordinator', 'start', '--dev', '--port', String(port), '--data-dir', join(dir, 'coordinator')], { env, logFile: join(dir, 'coordinator.log') });
    await waitFor('the coordinator', async () => (await fetch(`${url}/healthz`)).ok, { timeoutMs: 30_000, giveUpIf: () => (coordinator!.exited() ? coordinator!.logTail() : undefined) });
  };
  const startProvider = () => {
    provider = spawnCli(
      ['provide', '--simulate-gpus', '1:RTX4090', '--data-dir', join(dir, 'provider'), '--machine-id', machineId, '--keypair', join(dir, 'provider.json'), '--interval', '1', '--stop-timeout', '1', '--no-verify', '--yes'],
      { env, logFile: join(dir, 'provider.log') },
    );
  };
  const execOk = async () => {
    const result = await iocli(['lease', 'exec', leaseId, '--', 'echo', 'ok'], env, { timeoutMs: 20_000 });
    return result.code === 0 && result.stdout.toString() === 'ok\n';
  };

  beforeAll(async () => {
    const image = await ensureTestImage();
    dir = await mkdtemp(join(tmpdir(), 'iocli-relay-fail-'));
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const renter = generateKeypair();
    await writeKeypairFile(join(dir, 'renter.json'), renter);
    await writeKeypairFile(join(dir, 'provider.json'), generateKeypair());
    Object.assign(env, { HOME: dir, IOCLI_CONFIG_DIR: join(dir, 'config'), IOCLI_API_URL: url, IOCLI_KEYPAIR: join(dir, 'renter.json') });
    await startCoordinator();
    startProvider();
    renterApi = createApiClient({ baseUrl: url, keypair: renter, timeoutMs: 20_000 });
    const quote = await waitFor('an offer', async () => renterApi.quote({ gpus: 1, image, command: ['sleep', '600'] }).catch(() => undefined), {
      timeoutMs: 40_000,
      giveUpIf: () => (provider!.exited() ? provider!.logTail() : undefined),
    });
    leaseId = (await renterApi.createLease({ quoteId: quote.quoteId })).id;
    await waitFor('the lease running', async () => (await renterApi.lease(leaseId)).state === 'running', { timeoutMs: 30_000 });
    nodeId = (await renterApi.lease(leaseId)).allocations[0]?.nodeId;
    await waitFor('a first stream', execOk, { timeoutMs: 20_000, context: () => provider!.logTail() });
  }, 120_000);

  afterAll(async () => {
    await provider?.stop(5_000);
    await coordinator?.stop(5_000);
    if (nodeId) {
      const ids = (await docker(['ps', '-aq', '--filter', `label=iocli.node=${nodeId}`])).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await docker(['rm', '-f', ...ids]);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  /** Starts a long `lease exec`, SIGKILLs `victim` two seconds in, and checks the renter's command ends with `error` within 5 s. */
  async function expectExecEndsWhenKilled(victim: BackgroundCli, error: RegExp): Promise<void> {
    const running = iocli(['lease', 'exec', leaseId, '--', 'sh', '-c', 'echo started; sleep 120'], env, { timeoutMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    const result = await running;
    const ms = Date.now() - killedAt;
    expect(result.stdout.toString()).toBe('started\n');
    expect(result.code).toBe(3);
    expect(result.stderr.toString()).toMatch(error);
    expect(ms).toBeLessThan(5_000);
  }

  it('killing the agent mid-stream ends the renter command with a clear error within seconds; a restarted agent serves again', async () => {
    await expectExecEndsWhenKilled(provider!, /agent for node .* disconnected/);

    startProvider();
    await waitFor('a stream through the restarted agent', execOk, { timeoutMs: 40_000, context: () => provider!.logTail() });
  }, 90_000);

  it('killing the coordinator mid-stream ends the renter command within seconds; after a restart a new stream works', async () => {
    await expectExecEndsWhenKilled(coordinator!, /relay connection closed/);

    const down = await iocli(['lease', 'exec', leaseId, '--', 'true'], env, { timeoutMs: 20_000 });
    expect(down.code).toBe(3);
    expect(down.stderr.toString()).toMatch(/Cannot reach the coordinator/);

    await startCoordinator();
    await waitFor('a stream after the coordinator restart', execOk, { timeoutMs: 40_000, context: () => `${coordinator!.logTail()}\n${provider!.logTail()}` });
  }, 90_000);
});
