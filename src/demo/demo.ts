// `iocli demo`'s walk through real iocli commands against a throwaway local network: start it, make and fund two
// wallets, run a provider with simulated GPUs (real containers), bond, rent, read logs, stop early (refund), claim,
// show balances. It reports each step to the caller (which renders it) and removes everything afterwards, also on
// failure and Ctrl-C, unless asked to keep it.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDockerCli } from '../docker/exec.js';
import { ensureWorkloadImage } from '../docker/offline-image.js';
import { runPreflight } from '../docker/preflight.js';
import { formatTokenAmount } from '../domain/money.js';
import { CancelledError, ExternalError, UserError } from '../errors.js';
import { sleep } from '../renter/lease-flow.js';
import { createStepRunner, iocliBin, stopProcess } from './iocli-steps.js';

export interface DemoOptions {
  gpus: number;
  seconds: number;
  /** Leave the network, the provider and the folder running. */
  keep: boolean;
  /** The caller's environment, passed on to the steps (minus settings: they get their own config folder). */
  env: Record<string, string | undefined>;
  /** Steps print their own output to this terminal; without, everything is captured (--json, --quiet). */
  show: boolean;
  /** Steps may colour their output. */
  color: boolean;
  signal: AbortSignal;
  now?: () => number;
}

/** What the demo tells its caller as it goes. */
export interface DemoReport {
  step(index: number, total: number, title: string): void;
  /** A command line about to run (only when steps are shown). */
  command(line: string): void;
  note(text: string): void;
  balances(rows: Array<{ name: string; address: string; sol: number; tokens: string }>): void | Promise<void>;
  /** Wraps the clean-up (stop the provider and the network, remove the folder). */
  cleaningUp(work: () => Promise<void>): Promise<void>;
}

const TOTAL_STEPS = 12;

export async function runDemo(options: DemoOptions, report: DemoReport): Promise<Record<string, unknown>> {
  const { gpus, seconds, signal } = options;
  const now = options.now ?? Date.now;
  const docker = createDockerCli();
  const preflight = await runPreflight(docker);
  if (!preflight.daemonReachable) {
    const problem = preflight.problems.find((p) => p.blocking) ?? preflight.problems[0];
    throw new ExternalError(`The demo runs real containers and needs Docker. ${problem?.message ?? 'No Docker daemon answers.'}`, {
      code: 'DOCKER_UNAVAILABLE',
      hint: problem?.hint ?? 'Install Docker (sudo apt-get install -y docker.io) and start it (sudo systemctl start docker, or: sudo dockerd &).',
    });
  }

  const root = mkdtempSync(join(tmpdir(), 'iocli-demo-'));
  const env: Record<string, string | undefined> = {
    ...options.env,
    IOCLI_CONFIG_DIR: join(root, 'config'), // never touches the user's own settings or wallet
    IOCLI_PROFILE: 'local',
    NO_COLOR: options.color ? undefined : '1',
    FORCE_COLOR: options.color ? '1' : undefined,
    CI: '1', // the steps never prompt
  };
  const iocli = createStepRunner({ bin: iocliBin(), env, show: options.show, signal, onCommand: (line) => report.command(line) });
  const renter = join(root, 'renter.json');
  const provider = join(root, 'provider.json');
  const providerDir = join(root, 'provider');
  const networkDir = join(root, 'network');
  const summary: Record<string, unknown> = { dataDir: root, simulatedGpus: gpus };
  let providerProcess: ChildProcess | undefined;
  let networkStarted = false;
  let stepNumber = 0;
  const step = (title: string) => report.step(++stepNumber, TOTAL_STEPS, title);
  const providerAlive = () => {
    if (providerProcess?.exitCode !== null) throw new UserError(`The provider exited early; see ${join(root, 'provider.log')}.`);
  };
  /** Polls `check` every 500 ms until it holds; the provider must stay up meanwhile. */
  const waitFor = async (check: () => Promise<boolean>, timeoutMs: number) => {
    const deadline = now() + timeoutMs;
    while (!signal.aborted) {
      providerAlive();
      if (await check()) return;
      if (now() > deadline) throw new UserError(`Timed out after ${timeoutMs / 1000} s waiting for the provider to come online.`);
      await sleep(500, signal);
    }
    throw new CancelledError('Demo interrupted; cleaned up.');
  };

  try {
    report.note(`iocli demo: everything runs on this machine, in ${root}. The provider's GPUs are SIMULATED; its containers are real.`);

    step('Start a local network: Solana chain, token mint and treasury, coordinator (dev mode)');
    const network = await iocli.json<{ apiUrl: string; rpcUrl: string; mint: string; treasury: string }>([
      'network', 'up', '--detach', '--data-dir', networkDir, '--port', '0', '--rpc-port', '0',
    ]);
    networkStarted = true;
    env.IOCLI_API_URL = network.apiUrl;
    env.IOCLI_RPC_URL = network.rpcUrl;
    report.note(`  coordinator ${network.apiUrl} · chain ${network.rpcUrl} · token mint ${network.mint}`);
    summary.network = network;

    step('Create two wallets: a renter and a provider');
    const renterWallet = await iocli.json<{ publicKey: string }>(['wallet', 'new', '--outfile', renter]);
    const providerWallet = await iocli.json<{ publicKey: string }>(['wallet', 'new', '--outfile', provider]);
    report.note(`  renter   ${renterWallet.publicKey}\n  provider ${providerWallet.publicKey}`);
    summary.wallets = { renter: renterWallet.publicKey, provider: providerWallet.publicKey };

    step('Fund both from the local faucet: SOL for fees, test tokens to pay with (the provider posts a bond)');
    await iocli.run(['wallet', 'airdrop', '--sol', '1', '--tokens', '100', '--keypair', renter]);
    await iocli.run(['wallet', 'airdrop', '--sol', '1', '--tokens', '20', '--keypair', provider]);

    step(`Start a provider with ${gpus} simulated H100 GPUs (real Docker containers)`);
    const image = await ensureWorkloadImage(docker, (text) => report.note(`  ${text}`));
    const providerLog = join(root, 'provider.log');
    providerProcess = iocli.background(
      ['provide', '--simulate-gpus', `${gpus}:H100`, '--price', '2', '--region', 'local', '--interval', '1',
        '--data-dir', providerDir, '--stop-workloads', '--stop-timeout', '2', '--yes', '--keypair', provider],
      providerLog,
    );
    await waitFor(async () => (await iocli.json<{ offers: unknown[] }>(['offers'])).offers.length > 0, 30_000);
    report.note(`  provider agent running (log: ${providerLog}), workload image ${image}`);

    step("Bond the provider's GPUs and pass the coordinator's GPU challenge (CPU stand-in for simulated GPUs)");
    await iocli.run(['provide', 'bond', '--yes', '--data-dir', providerDir, '--keypair', provider]);
    await waitFor(async () => (await iocli.json<{ offers: Array<{ challenge?: string | null }> }>(['offers'])).offers.some((o) => o.challenge), 30_000);
    await iocli.run(['provide', 'why', '--data-dir', providerDir, '--keypair', provider]);

    step('Search capacity');
    await iocli.run(['offers']);

    step(`Rent ${gpus} GPUs for 1 hour: quote, pay from the renter's wallet, wait for the container`);
    const workload = `echo "hello from lease on $(uname -n): $(nproc) CPUs"; i=0; while true; do i=$((i+1)); echo "step $i: training on ${gpus} GPUs"; sleep 1; done`;
    await iocli.run(['rent', '--gpus', String(gpus), '--model', 'H100', '--image', image, '--cmd', `sh -c '${workload}'`, '--hours', '1', '--yes', '--keypair', renter]);
    const leases = await iocli.json<{ leases: Array<{ id: string; state: string; totalPaid: number }> }>(['leases', '--keypair', renter]);
    const lease = leases.leases[0];
    if (!lease) throw new UserError('The rent step finished but no lease is listed.');
    summary.lease = { id: lease.id, paid: lease.totalPaid };

    step(`Let the workload run for ${seconds} s, then read its logs`);
    await sleep(seconds * 1000, signal);
    await iocli.run(['lease', 'logs', lease.id, '--tail', '5', '--keypair', renter]);

    step('Stop the lease early: the unused time is refunded on chain');
    const stopped = await iocli.json<{ refund: number; refundSignature?: string | null }>(['lease', 'stop', lease.id, '--yes', '--keypair', renter]);
    report.note(`  refund ${formatTokenAmount(stopped.refund)} tokens${stopped.refundSignature ? ` (signature ${stopped.refundSignature})` : ''}`);
    summary.refund = stopped;

    step("Provider's rewards for the verified running time");
    await iocli.run(['rewards', '--keypair', provider]);

    step('Claim the rewards: paid out on chain, exactly once');
    const claim = await iocli.run(['rewards', 'claim', '--yes', '--keypair', provider], { capture: true, allowFailure: true });
    summary.claim = JSON.parse(claim.stdout || 'null');
    if (claim.code === 0) {
      const { claim: claimed } = summary.claim as { claim: { amount: number; signature: string | null } };
      report.note(`  claimed ${formatTokenAmount(claimed.amount)} tokens${claimed.signature ? ` (signature ${claimed.signature})` : ''}`);
    } else report.note('  nothing to claim yet (providers earn per confirmed running minute)');

    step('On-chain balances');
    const rows: Array<{ name: string; address: string; sol: number; tokens: string }> = [];
    const balances: Record<string, unknown> = {};
    for (const [name, address] of [['renter', renterWallet.publicKey], ['provider', providerWallet.publicKey], ['treasury', network.treasury]] as const) {
      const balance = await iocli.json<{ sol: number; token?: { uiAmount: string; amount: string } }>(['wallet', 'balance', address]);
      balances[name] = { address, sol: balance.sol, tokens: balance.token?.amount ?? '0' };
      rows.push({ name, address, sol: balance.sol, tokens: balance.token?.uiAmount ?? '0' });
    }
    summary.balances = balances;
    await report.balances(rows);

    if (options.keep) {
      summary.kept = true;
      providerProcess.unref();
      providerProcess = undefined;
      networkStarted = false;
    }
    return summary;
  } finally {
    if (!options.keep || signal.aborted) {
      await report.cleaningUp(async () => {
        if (providerProcess) await stopProcess(providerProcess);
        if (networkStarted) await iocli.run(['network', 'down', '--data-dir', networkDir], { capture: true, allowFailure: true }).catch(() => {});
        rmSync(root, { recursive: true, force: true });
      });
    }
  }
}
