// Batch jobs end to end: the spawned `iocli rent` against a real coordinator on loopback and an in-process agent on the
// real Docker engine (simulated GPU). A container that exits by itself is a finished job: exit 0 completes the lease,
// `rent --follow` streams its output and exits with its exit code, `lease show` tells the code and the start/end times,
// and the unused time is refunded as for any lease that ends early.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lease } from '../../src/api/schemas/leases.js';
import { generateKeypair, writeKeypairFile } from '../../src/wallet/keypair.js';
import { startAgentBench, type AgentBench } from '../support/agent.js';
import { BIN, runCli, tempHome } from '../support/cli.js';
import { ensureDocker } from '../support/docker.js';
import { waitFor } from '../support/wait.js';

const hasDocker = await ensureDocker();
const RUN = `${process.pid}-${Date.now().toString(36)}`;

describe.skipIf(!hasDocker)('batch jobs (spawned rent, real coordinator, real Docker)', () => {
  let bench: AgentBench;
  let image: string;
  let env: Record<string, string>;
  const home = tempHome();

  beforeAll(async () => {
    bench = await startAgentBench({
      dataDirPrefix: 'iocli-batch-',
      machineId: `batch-${RUN}`,
      simulate: '1:RTX4090',
      stopTimeoutSec: 1,
    });
    ({ image } = bench);
    const keypairPath = join(home.dir, 'renter.json');
    await writeKeypairFile(keypairPath, generateKeypair());
    env = { ...home.env, IOCLI_API_URL: bench.coordinator.url, IOCLI_KEYPAIR: keypairPath };
  });

  afterAll(async () => {
    try {
      await bench?.close();
    } finally {
      home.cleanup();
    }
  });

  const rent = (cmd: string, ...extra: string[]) =>
    runCli(['rent', '--yes', '--gpus', '1', '--hours', '1', '--image', image, '--cmd', cmd, '--interval', '200', ...extra], { env, timeoutMs: 90_000 });
  const latestLease = async (): Promise<Lease> => {
    const listed = await runCli(['leases', '--all', '--json'], { env });
    return (JSON.parse(listed.stdout) as { leases: Lease[] }).leases[0]!;
  };

  it('rent --follow streams the output and exits 0 for a job that exits 0; the lease completed, with its code, times and refund', async () => {
    const result = await rent("sh -c 'echo job-out-1; echo job-err-1 >&2; echo job-out-2'", '--follow');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('job-out-1\njob-out-2\n');
    expect(result.stderr).toContain('job-err-1\n');
    expect(result.stderr).toMatch(/completed: the container exited with code 0; [\d.]+ tokens of unused time refunded\./);

    const lease = await latestLease();
    const shown = await runCli(['lease', 'show', lease.id, '--json'], { env });
    const detail = (JSON.parse(shown.stdout) as { lease: Lease }).lease;
    expect(detail).toMatchObject({ state: 'completed', exitCode: 0, failureReason: null });
    expect(Date.parse(detail.startedAt!)).toBeLessThanOrEqual(Date.parse(detail.stoppedAt!));
    // The renter paid for an hour and the job took seconds: the unused time comes back, as for any early end.
    expect(detail.refund).toBeGreaterThan(0);
    expect(detail.refund).toBeLessThan(detail.totalPaid);

    const human = await runCli(['lease', 'show', lease.id], { env });
    expect(human.stdout).toMatch(/State:\s+completed\n/);
    expect(human.stdout).toMatch(/Started:\s+\d{4}-\d\d-\d\dT/);
    expect(human.stdout).toMatch(/Ended:\s+\d{4}-\d\d-\d\dT/);
    expect(human.stdout).toMatch(/Exit code:\s+0\n/);
  });

  it('rent --follow exits with the job\'s own non-zero code; --json prints one document with it', async () => {
    const result = await rent("sh -c 'echo failing-job; exit 3'", '--follow', '--json');
    expect(result.code).toBe(3);
    const data = JSON.parse(result.stdout) as { lease: Lease };
    expect(data.lease).toMatchObject({ state: 'failed', exitCode: 3, failureReason: 'container exited with exit code 3' });
    const logs = await runCli(['lease', 'logs', data.lease.id], { env });
    expect(logs.stdout).toBe('failing-job\n');
  });

  it('Ctrl-C stops following (exit 130) and leaves the job running', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'rent', '--yes', '--gpus', '1', '--hours', '1', '--image', image, '--cmd', "sh -c 'echo long-job-started; sleep 120'", '--interval', '200', '--follow'],
      { env: { ...process.env, NO_COLOR: '1', CI: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor('the job output', async () => stdout.includes('long-job-started\n'), { timeoutMs: 60_000 });
      child.kill('SIGINT');
      expect(await exited).toBe(130);
    } finally {
      child.kill('SIGKILL');
    }
    expect(stderr).toMatch(/Stopped following; lease \S+ keeps running/);
    const lease = await latestLease();
    expect(lease.state).toBe('running');
    const stopped = await runCli(['lease', 'stop', lease.id, '--yes', '--json'], { env });
    expect(stopped.code).toBe(0);
  });

  it('without --follow, a job that finished by itself is a result, not an error', async () => {
    const result = await rent('true', '--json');
    expect(result.code).toBe(0);
    const data = JSON.parse(result.stdout) as { lease: Lease };
    // Seen either still running or already completed; never as a failure.
    expect(['running', 'completed']).toContain(data.lease.state);
    await waitFor('the job to complete', async () => (await latestLease()).state === 'completed');
    expect((await latestLease()).exitCode).toBe(0);
  });
});
