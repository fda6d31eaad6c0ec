// The whole renter → provider → rewards loop through the real `iocli` binary only: a detached local network, two
// simulated-GPU provider agents running real containers, rent (single- and multi-node), logs, stop with refund,
// rewards claim, and exact token conservation across renter, providers and treasury.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempHome, type CliResult } from '../support/cli.js';
import { docker, ensureDocker, ensureTestImage } from '../support/docker.js';
import { spawnCli, type BackgroundCli } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

interface Allocation {
  nodeId: string;
  gpuUuids: string[];
  pricePerGpuHour: number;
}
interface Lease {
  id: string;
  state: string;
  gpus: number;
  totalPaid: number;
  refund: number;
  allocations: Allocation[];
}
interface Offer {
  nodeId: string;
  freeGpus: number;
  totalGpus: number;
  simulated: boolean;
  challenge?: string | null;
}

const dockerReady = await ensureDocker();

describe.skipIf(!dockerReady)('e2e: full loop through the iocli binary', () => {
  const home = tempHome();
  const netDir = join(home.dir, 'net');
  const env: Record<string, string> = { ...home.env };
  const key = (name: string) => join(home.dir, `${name}.json`);
  const wallets: Record<string, string> = {};
  const providers: Record<'p4' | 'p8', { proc?: BackgroundCli; dataDir: string; nodeId?: string }> = {
    p4: { dataDir: join(home.dir, 'provider4') },
    p8: { dataDir: join(home.dir, 'provider8') },
  };
  const leaseIds: string[] = [];
  let network: { apiUrl: string; rpcUrl: string; treasury: string; pid: number } | undefined;
  let image = '';
  let failedEarlier = false;
  const started = Date.now();

  /** Runs iocli with the test's env; fails with the command's stderr unless the exit code is `code`. */
  async function cli(args: string[], { code = 0, timeoutMs = 60_000 }: { code?: number; timeoutMs?: number } = {}): Promise<CliResult> {
    const result = await runCli(args, { env, timeoutMs });
    if (result.code !== code) {
      throw new Error(`iocli ${args.join(' ')} exited ${result.code} (expected ${code})\nstderr: ${result.stderr.trim()}\nstdout: ${result.stdout.trim()}${providerLogs()}`);
    }
    return result;
  }
  const json = async <T>(args: string[], options?: { code?: number; timeoutMs?: number }): Promise<T> =>
    JSON.parse((await cli([...args, '--json'], options)).stdout) as T;
  const providerLogs = () =>
    Object.entries(providers)
      .map(([name, p]) => (p.proc ? `\n--- ${name} log (tail) ---\n${p.proc.logTail(20)}` : ''))
      .join('');

  async function tokenBalance(address: string): Promise<bigint> {
    const balance = await json<{ token?: { amount: string } | null }>(['wallet', 'balance', address]);
    return BigInt(balance.token?.amount ?? '0');
  }
  async function balances(): Promise<Record<string, bigint>> {
    const names = ['renter', 'p4', 'p8', 'treasury'] as const;
    const values = await Promise.all(names.map((n) => tokenBalance(n === 'treasury' ? network!.treasury : wallets[n]!)));
    return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
  }
  async function leaseContainers(leaseId: string, all = false): Promise<string[]> {
    const ps = await docker(['ps', ...(all ? ['-a'] : []), '-q', '--no-trunc', '--filter', `label=iocli.lease=${leaseId}`]);
    if (ps.code !== 0) throw new Error(`docker ps failed: ${ps.stderr}`);
    return ps.stdout.split('\n').filter(Boolean);
  }
  const rentArgs = (gpus: number, cmd: string, extra: string[] = []) => [
    'rent', '--gpus', String(gpus), '--model', 'H100', '--image', image, '--cmd', cmd, '--hours', '1', '--timeout', '60', '--yes', '--keypair', key('renter'), ...extra,
  ];
  /** Each step needs the previous ones; after a failure, skip the rest with a clear reason instead of cascading errors. */
  const step = (name: string, fn: () => Promise<void>, timeoutMs = 60_000) =>
    it(name, async (ctx) => {
      if (failedEarlier) ctx.skip();
      try {
        await fn();
      } catch (error) {
        failedEarlier = true;
        throw error;
      }
    }, timeoutMs);

  beforeAll(async () => {
    image = await ensureTestImage();
  });

  afterAll(async () => {
    // Everything below runs whatever happened above, and each part on its own.
    await Promise.all(Object.values(providers).map((p) => p.proc?.stop(15_000).catch(() => {})));
    if (network) {
      const down = await runCli(['network', 'down', '--data-dir', netDir, '--json'], { env, timeoutMs: 30_000 }).catch(() => undefined);
      if (down?.code !== 0) {
        try {
          process.kill(network.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    const labels = [
      ...Object.values(providers).flatMap((p) => (p.nodeId ? [`iocli.node=${p.nodeId}`] : [])),
      ...leaseIds.map((id) => `iocli.lease=${id}`),
    ];
    for (const label of labels) {
      const ids = (await docker(['ps', '-aq', '--no-trunc', '--filter', 'label=iocli.managed=true', '--filter', `label=${label}`])).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await docker(['rm', '-f', ...ids]);
      // Lease networks carry the same labels; the agent removes them with their containers unless it was killed first.
      const networks = (await docker(['network', 'ls', '-q', '--filter', 'label=iocli.managed=true', '--filter', `label=${label}`])).stdout.split('\n').filter(Boolean);
      if (networks.length > 0) await docker(['network', 'rm', ...networks]);
    }
    home.cleanup();
    process.stderr.write(`full-loop e2e: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }, 90_000);

  step('starts a detached local network', async () => {
    const up = await json<{ apiUrl: string; rpcUrl: string; treasury: string; pid: number }>(
      ['network', 'up', '--detach', '--data-dir', netDir, '--port', '0', '--rpc-port', '0'],
      { timeoutMs: 90_000 },
    );
    network = up;
    expect(up.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(up.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(up.treasury).toEqual(expect.any(String));
    env.IOCLI_API_URL = up.apiUrl;
    env.IOCLI_RPC_URL = up.rpcUrl;
  }, 120_000);

  step('creates and funds wallets', async () => {
    for (const name of ['renter', 'p4', 'p8']) {
      wallets[name] = (await json<{ publicKey: string }>(['wallet', 'new', '--outfile', key(name)])).publicKey;
    }
    expect(new Set(Object.values(wallets)).size).toBe(3);
    const airdrop = await json<{ tokens?: { amount: string } }>(['wallet', 'airdrop', '--sol', '1', '--tokens', '200', '--keypair', key('renter')]);
    expect(airdrop.tokens?.amount).toBe('200');
    expect(await tokenBalance(wallets.renter!)).toBe(200_000_000n);
  });

  step('runs two simulated-GPU providers that show up in offers', async () => {
    // The 4-GPU node is cheaper, so the 8-GPU lease landing on the 8-GPU node shows locality beats price.
    for (const [name, gpus, price] of [['p4', 4, '2'], ['p8', 8, '3']] as const) {
      const p = providers[name];
      p.proc = spawnCli(
        [
          'provide', '--simulate-gpus', `${gpus}:H100`, '--data-dir', p.dataDir, '--machine-id', `e2e-${name}-${randomBytes(4).toString('hex')}`,
          '--keypair', key(name), '--price', price, '--region', 'local', '--interval', '1', '--stop-workloads', '--stop-timeout', '1', '--yes',
        ],
        { env, logFile: join(home.dir, `${name}.log`) },
      );
    }
    for (const [name, gpus] of [['p4', 4], ['p8', 8]] as const) {
      const p = providers[name];
      const status = await waitFor(
        `${name} to register`,
        async () => {
          const r = await runCli(['provide', 'status', '--data-dir', p.dataDir, '--keypair', key(name), '--json'], { env });
          return r.code === 0 ? (JSON.parse(r.stdout) as { nodeId: string; simulated: boolean; gpus: unknown[] }) : undefined;
        },
        { timeoutMs: 40_000, context: providerLogs, giveUpIf: () => (p.proc!.exited() ? `provider ${name} exited early` : undefined) },
      );
      expect(status.simulated).toBe(true);
      expect(status.gpus).toHaveLength(gpus);
      p.nodeId = status.nodeId;
    }
    // Each agent answers the GPU challenge the coordinator issued at registration (the CPU stand-in for simulated GPUs).
    const offers = await waitFor(
      'both nodes in `iocli offers`, their challenges passed',
      async () => {
        const { offers } = await json<{ offers: Offer[] }>(['offers', '--model', 'H100']);
        const mine = [providers.p4.nodeId, providers.p8.nodeId].map((id) => offers.find((o) => o.nodeId === id));
        return mine.every((o) => o?.challenge === 'cpu-stand-in') ? (mine as Offer[]) : undefined;
      },
      { timeoutMs: 30_000, context: providerLogs },
    );
    expect(offers.map((o) => [o.totalGpus, o.freeGpus, o.simulated])).toEqual([[4, 4, true], [8, 8, true]]);
    const why = await json<{ offered: boolean; reasons: Array<{ code: string }>; challenges: Array<{ state: string; kind: string; computeMs: number }> }>(['provide', 'why', '--data-dir', providers.p4.dataDir, '--keypair', key('p4')]);
    expect(why).toMatchObject({ offered: true, challenges: [{ state: 'passed', kind: 'cpu-stand-in', computeMs: expect.any(Number) }] });
    expect(why.reasons.map((r) => r.code).filter((c) => c.startsWith('CHALLENGE') || c === 'NOT_VERIFIED')).toEqual([]);
  }, 90_000);

  step('refuses 16 GPUs on one node (exit 4, explained, nothing paid)', async () => {
    const result = await cli(rentArgs(16, 'sh -c "sleep 1"'), { code: 4 });
    expect(result.stderr).toMatch(/16/);
    expect(result.stderr).toMatch(/multi-node|capacity|no (single )?node/i);
    expect(await tokenBalance(wallets.renter!)).toBe(200_000_000n);
  });

  let before: Record<string, bigint> = {};
  let lease8: Lease | undefined;
  let paid = 0;
  let feeBps = 0;
  const marker = `e2e-marker-${randomBytes(4).toString('hex')}`;

  step('rents 8 GPUs: the lease lands on the 8-GPU node and its container runs and logs', async () => {
    before = await balances();
    // $((6*7)) is expanded by the container's shell: seeing "-42-" proves the workload itself ran.
    const rent = await json<{ lease: Lease; quote: { fee: number; total: number }; payment: { amount: number } | null }>(rentArgs(8, `sh -c 'echo ${marker}-$((6*7)); sleep 300'`), { timeoutMs: 90_000 });
    lease8 = rent.lease;
    leaseIds.push(rent.lease.id);
    expect(rent.lease.state).toBe('running');
    expect(rent.lease.allocations).toHaveLength(1);
    expect(rent.lease.allocations[0]!.nodeId).toBe(providers.p8.nodeId);
    expect(rent.lease.allocations[0]!.gpuUuids).toHaveLength(8);
    paid = rent.lease.totalPaid;
    feeBps = (rent.quote.fee * 10_000) / rent.quote.total;
    expect(paid).toBe(8 * 3_000_000);
    expect(rent.payment?.amount).toBe(paid);

    const [containerId] = await waitFor('the lease container', async () => {
      const ids = await leaseContainers(rent.lease.id);
      return ids.length > 0 ? ids : undefined;
    });
    const inspect = JSON.parse((await docker(['container', 'inspect', containerId!])).stdout)[0] as { Config: { Labels: Record<string, string> } };
    expect(inspect.Config.Labels).toMatchObject({ 'iocli.managed': 'true', 'iocli.lease': rent.lease.id, 'iocli.node': providers.p8.nodeId });
    await waitFor('the marker in docker logs', async () => (await docker(['logs', containerId!])).stdout.includes(`${marker}-42`));
    await waitFor(
      'the marker in `iocli lease logs`',
      async () => {
        const logs = await json<{ entries: Array<{ data: string }> }>(['lease', 'logs', rent.lease.id, '--keypair', key('renter')]);
        return logs.entries.some((e) => e.data.includes(`${marker}-42`));
      },
      { timeoutMs: 15_000, intervalMs: 500, context: providerLogs },
    );
    const plain = await cli(['lease', 'logs', rent.lease.id, '--keypair', key('renter')]);
    expect(plain.stdout).toContain(`${marker}-42`);

    // The provider's own view lists the container; the market no longer offers the leased GPUs.
    const status = await json<{ leases: Array<{ leaseId: string; state: string }> }>(['provide', 'status', '--data-dir', providers.p8.dataDir, '--keypair', key('p8')]);
    expect(status.leases).toContainEqual(expect.objectContaining({ leaseId: rent.lease.id, state: 'running' }));
    const { offers } = await json<{ offers: Offer[] }>(['offers', '--model', 'H100']);
    expect(offers.find((o) => o.nodeId === providers.p8.nodeId)?.freeGpus ?? 0).toBe(0);
    expect(offers.find((o) => o.nodeId === providers.p4.nodeId)?.freeGpus).toBe(4);
  }, 120_000);

  let refund = 0;
  let stoppedLease: (Lease & { stoppedAt: string | null; startedAt: string | null; endsAt: string; hours: number; perHour: number }) | undefined;
  let networkFee = 0;
  step('stops the lease: refund on chain, container gone', async () => {
    const stop = await json<{ lease: NonNullable<typeof stoppedLease>; refund: number; refundSignature?: string }>(['lease', 'stop', lease8!.id, '--yes', '--keypair', key('renter')]);
    expect(stop.lease.state).toBe('stopped');
    expect(stop.refund).toBeGreaterThan(0);
    expect(stop.refund).toBeLessThan(paid);
    expect(stop.refundSignature).toEqual(expect.any(String));
    refund = stop.refund;
    stoppedLease = stop.lease;
    await waitFor('the lease container to be removed', async () => (await leaseContainers(lease8!.id, true)).length === 0, {
      timeoutMs: 10_000,
      context: providerLogs,
    });
  });

  let claimed = 0;
  step('pays the 8-GPU provider its rewards exactly once', async () => {
    const rewards = await json<{ claimable: number; owner: string }>(['rewards', '--keypair', key('p8')]);
    expect(rewards.owner).toBe(wallets.p8);
    expect(rewards.claimable).toBeGreaterThan(0);
    expect(rewards.claimable).toBeLessThanOrEqual(paid - refund);
    const { claim } = await json<{ claim: { amount: number; state: string; signature: string | null } }>(['rewards', 'claim', '--yes', '--keypair', key('p8')]);
    expect(claim).toMatchObject({ state: 'paid', amount: rewards.claimable, signature: expect.any(String) });
    // Recomputed from the outside: the renter is billed the started minutes since the paid start, the provider earns the
    // started minutes since the container ran (stopped by its renter), less the network fee (feeBps from the quote).
    const { stoppedAt, startedAt, endsAt, hours, perHour } = stoppedLease!;
    const minutesSince = (iso: string) => Math.ceil((Date.parse(stoppedAt!) - Date.parse(iso)) / 60_000);
    const billedMinutes = Math.ceil((Date.parse(stoppedAt!) - (Date.parse(endsAt) - hours * 3_600_000)) / 60_000);
    expect(paid - refund).toBe(Math.ceil((paid * billedMinutes) / (hours * 60)));
    const gross = Math.floor((perHour * minutesSince(startedAt!)) / 60);
    networkFee = Math.floor((gross * feeBps) / 10_000);
    expect(claim.amount).toBe(gross - networkFee);
    claimed = claim.amount;
    const again = await cli(['rewards', 'claim', '--yes', '--keypair', key('p8')], { code: 4 });
    expect(again.stderr).toMatch(/nothing to claim/i);
    // The 4-GPU provider ran nothing and earned nothing.
    expect((await json<{ claimable: number; accrued: number }>(['rewards', '--keypair', key('p4')])).accrued).toBe(0);
  });

  step('moves tokens exactly: renter −(paid − refund), provider +claim, treasury +the rest', async () => {
    const expected = {
      renter: before.renter! - BigInt(paid - refund),
      p4: before.p4!,
      p8: before.p8! + BigInt(claimed),
      treasury: before.treasury! + BigInt(paid - refund - claimed),
    };
    // Transfers are confirmed when the commands return, but allow the chain a moment before comparing exactly.
    let after: Record<string, bigint> = {};
    await waitFor('balances to settle', async () => {
      after = await balances();
      return Object.entries(expected).every(([k, v]) => after[k] === v);
    }, { timeoutMs: 10_000, intervalMs: 500 }).catch(() => undefined);
    expect(after).toEqual(expected);
    const sum = (b: Record<string, bigint>) => Object.values(b).reduce((a, v) => a + v, 0n);
    expect(sum(after)).toBe(sum(before));
    // The treasury keeps the network fee, plus whatever the renter was billed beyond the provider's gross (none when the
    // container started within the paid start's first minute, as here).
    expect(after.treasury! - before.treasury!).toBeGreaterThanOrEqual(BigInt(networkFee));
  });

  step('rents 12 GPUs across both nodes with --multi-node, then stops', async () => {
    const rent = await json<{ lease: Lease }>(rentArgs(12, 'sh -c "echo multi; sleep 300"', ['--multi-node']), { timeoutMs: 90_000 });
    leaseIds.push(rent.lease.id);
    expect(rent.lease.state).toBe('running');
    const byNode = Object.fromEntries(rent.lease.allocations.map((a) => [a.nodeId, a.gpuUuids.length]));
    expect(byNode).toEqual({ [providers.p4.nodeId!]: 4, [providers.p8.nodeId!]: 8 });
    expect(rent.lease.totalPaid).toBe(4 * 2_000_000 + 8 * 3_000_000);
    await waitFor('a container on each node', async () => (await leaseContainers(rent.lease.id)).length === 2, { context: providerLogs });

    const stop = await json<{ lease: Lease; refund: number }>(['lease', 'stop', rent.lease.id, '--yes', '--keypair', key('renter')]);
    expect(stop.lease.state).toBe('stopped');
    expect(stop.refund).toBeGreaterThan(0);
    await waitFor('both containers to be removed', async () => (await leaseContainers(rent.lease.id, true)).length === 0, {
      timeoutMs: 10_000,
      context: providerLogs,
    });
    // Both owners earned for the started minute.
    for (const name of ['p4', 'p8']) {
      expect((await json<{ claimable: number }>(['rewards', '--keypair', key(name)])).claimable).toBeGreaterThan(0);
    }
  }, 120_000);

  step('bonds the 4-GPU provider on chain (provide bond), shows it in provide status, then unbonds', async () => {
    await json(['wallet', 'airdrop', '--sol', '1', '--tokens', '10', '--keypair', key('p4')]);
    const start = await balances();
    const bonded = await json<{ bond: { held: number; gpus: Array<{ state: string }> }; payment: { amount: number; signature: string } }>(['provide', 'bond', '--yes', '--data-dir', providers.p4.dataDir, '--keypair', key('p4')]);
    // Simulated GPUs bond 1 token each on this dev network.
    expect(bonded.payment.amount).toBe(4_000_000);
    expect(bonded.bond).toMatchObject({ held: 4_000_000, gpus: [{ state: 'active' }, { state: 'active' }, { state: 'active' }, { state: 'active' }] });
    const after = await balances();
    expect(after.p4! - start.p4!).toBe(-4_000_000n);
    expect(after.treasury! - start.treasury!).toBe(4_000_000n);
    const status = await json<{ bond: { held: number } }>(['provide', 'status', '--data-dir', providers.p4.dataDir, '--keypair', key('p4')]);
    expect(status.bond.held).toBe(4_000_000);
    const unbonded = await json<{ bond: { gpus: Array<{ state: string; unbondAt: string }> } }>(['provide', 'unbond', '--yes', '--data-dir', providers.p4.dataDir, '--keypair', key('p4')]);
    expect(unbonded.bond.gpus.every((g) => g.state === 'unbonding' && g.unbondAt)).toBe(true);
  }, 120_000);
});
