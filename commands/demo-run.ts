// `iocli demo`: a scripted walk through real iocli commands, each spawned as its own process exactly as a user would
// type it, against a throwaway local network. Cleans up on success, failure and Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTokenAmount } from '../src/domain/money.js';
import { sleep } from '../src/renter/lease-flow.js';
import { CancelledError, ExternalError, UserError } from '../src/errors.js';
import type { Context } from './context.js';
import type { DemoOptions } from './demo.js';
import type { CommandResult } from './spec.js';

interface StepOutcome {
  code: number;
  stdout: string;
}

/** bin/iocli.js of this installation, found from this file whether it runs from dist/ or from sources. */
function iocliBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'bin', 'iocli.js');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('bin/iocli.js not found next to this installation');
}

export async function runDemo(options: DemoOptions, ctx: Context): Promise<CommandResult> {
  const { gpus, seconds } = options;

  const { createDockerCli } = await import('../src/docker/exec.js');
  const { runPreflight } = await import('../src/docker/preflight.js');
  const { ensureWorkloadImage } = await import('../src/docker/offline-image.js');
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
  const bin = iocliBin();
  const env: Record<string, string | undefined> = {
    ...ctx.env,
    IOCLI_CONFIG_DIR: join(root, 'config'), // never touches the user's own settings or wallet
    IOCLI_PROFILE: 'local',
    NO_COLOR: ctx.out.color ? undefined : '1',
    FORCE_COLOR: ctx.out.color ? '1' : undefined,
    CI: '1', // the steps never prompt
  };
  const renter = join(root, 'renter.json');
  const provider = join(root, 'provider.json');
  const networkDir = join(root, 'network');
  const summary: Record<string, unknown> = { dataDir: root, simulatedGpus: gpus };
  let providerProcess: ChildProcess | undefined;
  let networkStarted = false;
  let stepNumber = 0;
  const totalSteps = 12;
  const say = (text: string) => ctx.out.info(text);

  /** Runs `iocli …args`; shown to the user unless `capture` (then its --json result is parsed and returned). */
  const iocli = (args: string[], { capture = false, allowFailure = false } = {}): Promise<StepOutcome> =>
    new Promise((resolve, reject) => {
      // Ctrl-C: start nothing new (clean-up runs `network down` itself, with allowFailure).
      if (ctx.signal.aborted && !allowFailure) return reject(new CancelledError('Demo interrupted; cleaned up.'));
      const show = !capture && !ctx.globals.json && !ctx.globals.quiet;
      if (show) say(ctx.out.color ? `\u001b[2m$ iocli ${args.join(' ')}\u001b[22m` : `$ iocli ${args.join(' ')}`);
      const child = spawn(process.execPath, [bin, ...args, ...(capture ? ['--json'] : [])], {
        env: env as NodeJS.ProcessEnv,
        stdio: ['ignore', show ? 'inherit' : 'pipe', show ? 'inherit' : 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0 && !allowFailure) {
          reject(new UserError(`Demo step failed: iocli ${args.join(' ')} exited ${code}.`, { hint: stderr.trim().split('\n').slice(-2).join(' ') || undefined }));
        } else resolve({ code: code ?? 1, stdout });
      });
    });
  const json = async <T>(args: string[]): Promise<T> => JSON.parse((await iocli(args, { capture: true })).stdout) as T;
  const step = (title: string) => {
    stepNumber += 1;
    say('');
    say(ctx.out.color ? `\u001b[1m\u001b[36m[${stepNumber}/${totalSteps}] ${title}\u001b[39m\u001b[22m` : `[${stepNumber}/${totalSteps}] ${title}`);
  };

  const cleanup = async () => {
    if (providerProcess && providerProcess.exitCode === null) {
      providerProcess.kill('SIGTERM'); // --stop-workloads: the agent removes its containers on the way out
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          providerProcess?.kill('SIGKILL');
          resolve(undefined);
        }, 20_000);
        providerProcess!.once('exit', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
    if (networkStarted) await iocli(['network', 'down', '--data-dir', networkDir], { capture: true, allowFailure: true }).catch(() => {});
    rmSync(root, { recursive: true, force: true });
  };

  try {
    say(`iocli demo: everything runs on this machine, in ${root}. The provider's GPUs are SIMULATED; its containers are real.`);

    step('Start a local network: Solana chain, token mint and treasury, coordinator (dev mode)');
    const network = await json<{ apiUrl: string; rpcUrl: string; mint: string; treasury: string }>([
      'network', 'up', '--detach', '--data-dir', networkDir, '--port', '0', '--rpc-port', '0',
    ]);
    networkStarted = true;
    env.IOCLI_API_URL = network.apiUrl;
    env.IOCLI_RPC_URL = network.rpcUrl;
    say(`  coordinator ${network.apiUrl} · chain ${network.rpcUrl} · token mint ${network.mint}`);
    summary.network = network;

    step('Create two wallets: a renter and a provider');
    const renterWallet = await json<{ publicKey: string }>(['wallet', 'new', '--outfile', renter]);
    const providerWallet = await json<{ publicKey: string }>(['wallet', 'new', '--outfile', provider]);
    say(`  renter   ${renterWallet.publicKey}\n  provider ${providerWallet.publicKey}`);
    summary.wallets = { renter: renterWallet.publicKey, provider: providerWallet.publicKey };

    step('Fund both from the local faucet: SOL for fees, test tokens to pay with (the provider posts a bond)');
    await iocli(['wallet', 'airdrop', '--sol', '1', '--tokens', '100', '--keypair', renter]);
    await iocli(['wallet', 'airdrop', '--sol', '1', '--tokens', '20', '--keypair', provider]);

    step(`Start a provider with ${gpus} simulated H100 GPUs (real Docker containers)`);
    const image = await ensureWorkloadImage(docker, (text) => say(`  ${text}`));
    const providerLog = join(root, 'provider.log');
    const logFd = openSync(providerLog, 'a');
    const providerArgs = [
      'provide', '--simulate-gpus', `${gpus}:H100`, '--price', '2', '--region', 'local', '--interval', '1',
      '--data-dir', join(root, 'provider'), '--stop-workloads', '--stop-timeout', '2', '--yes', '--keypair', provider,
    ];
    say(ctx.out.color ? `\u001b[2m$ iocli ${providerArgs.join(' ')} &\u001b[22m` : `$ iocli ${providerArgs.join(' ')} &`);
    providerProcess = spawn(process.execPath, [bin, ...providerArgs], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', logFd, logFd] });
    await waitFor(async () => (await json<{ offers: unknown[] }>(['offers'])).offers.length > 0, 30_000, ctx.signal, () => {
      if (providerProcess?.exitCode !== null) throw new UserError(`The provider exited early; see ${providerLog}.`);
    });
    say(`  provider agent running (log: ${providerLog}), workload image ${image}`);

    step("Bond the provider's GPUs and pass the coordinator's GPU challenge (CPU stand-in for simulated GPUs)");
    await iocli(['provide', 'bond', '--yes', '--data-dir', join(root, 'provider'), '--keypair', provider]);
    await waitFor(async () => (await json<{ offers: Array<{ challenge?: string | null }> }>(['offers'])).offers.some((o) => o.challenge), 30_000, ctx.signal, () => {
      if (providerProcess?.exitCode !== null) throw new UserError(`The provider exited early; see ${providerLog}.`);
    });
    await iocli(['provide', 'why', '--data-dir', join(root, 'provider'), '--keypair', provider]);

    step('Search capacity');
    await iocli(['offers']);

    step(`Rent ${gpus} GPUs for 1 hour: quote, pay from the renter's wallet, wait for the container`);
    const workload = `echo "hello from lease on $(uname -n): $(nproc) CPUs"; i=0; while true; do i=$((i+1)); echo "step $i: training on ${gpus} GPUs"; sleep 1; done`;
    await iocli(['rent', '--gpus', String(gpus), '--model', 'H100', '--image', image, '--cmd', `sh -c '${workload}'`, '--hours', '1', '--yes', '--keypair', renter]);
    const leases = await json<{ leases: Array<{ id: string; state: string; totalPaid: number }> }>(['leases', '--keypair', renter]);
    const lease = leases.leases[0];
    if (!lease) throw new UserError('The rent step finished but no lease is listed.');
    summary.lease = { id: lease.id, paid: lease.totalPaid };

    step(`Let the workload run for ${seconds} s, then read its logs`);
    await sleep(seconds * 1000, ctx.signal);
    await iocli(['lease', 'logs', lease.id, '--tail', '5', '--keypair', renter]);

    step('Stop the lease early: the unused time is refunded on chain');
    const stopped = await json<{ refund: number; refundSignature?: string | null }>(['lease', 'stop', lease.id, '--yes', '--keypair', renter]);
    say(`  refund ${formatTokenAmount(stopped.refund)} tokens${stopped.refundSignature ? ` (signature ${stopped.refundSignature})` : ''}`);
    summary.refund = stopped;

    step("Provider's rewards for the verified running time");
    await iocli(['rewards', '--keypair', provider]);

    step('Claim the rewards: paid out on chain, exactly once');
    const claim = await iocli(['rewards', 'claim', '--yes', '--keypair', provider], { capture: true, allowFailure: true });
    summary.claim = JSON.parse(claim.stdout || 'null');
    if (claim.code === 0) {
      const { claim: claimed } = summary.claim as { claim: { amount: number; signature: string | null } };
      say(`  claimed ${formatTokenAmount(claimed.amount)} tokens${claimed.signature ? ` (signature ${claimed.signature})` : ''}`);
    } else say('  nothing to claim yet (providers earn per confirmed running minute)');

    step('On-chain balances');
    const balances: Record<string, unknown> = {};
    const rows: unknown[][] = [];
    for (const [name, address] of [['renter', renterWallet.publicKey], ['provider', providerWallet.publicKey], ['treasury', network.treasury]] as const) {
      const balance = await json<{ sol: number; token?: { uiAmount: string; amount: string } }>(['wallet', 'balance', address]);
      balances[name] = { address, sol: balance.sol, tokens: balance.token?.amount ?? '0' };
      rows.push([name, address, balance.sol.toFixed(6), balance.token?.uiAmount ?? '0']);
    }
    summary.balances = balances;
    if (!ctx.globals.json) (await ctx.out.humanRenderer()).table(['Wallet', 'Address', 'SOL', 'Tokens'], rows);

    if (options.keep) {
      summary.kept = true;
      providerProcess.unref();
      providerProcess = undefined;
      networkStarted = false;
    }
    return {
      data: summary,
      human: (r) => {
        r.success('Demo complete: provided, rented, paid, refunded and rewarded, all on a local chain.');
        if (options.keep) {
          r.line(`Kept running: IOCLI_API_URL=${network.apiUrl} IOCLI_RPC_URL=${network.rpcUrl} IOCLI_CONFIG_DIR=${join(root, 'config')}`);
          r.line(`Stop with: iocli network down --data-dir ${networkDir} (and kill the provider agent), then rm -rf ${root}`);
        }
      },
    };
  } finally {
    if (!options.keep || ctx.signal.aborted) {
      const spinner = await ctx.out.spinner('Cleaning up: stopping the provider (removing its containers) and the local network');
      await cleanup();
      spinner.succeed('Cleaned up: provider stopped, containers removed, local network down, temporary folder deleted');
    }
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, signal: AbortSignal, onTick: () => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!signal.aborted) {
    onTick();
    if (await check()) return;
    if (Date.now() > deadline) throw new UserError(`Timed out after ${timeoutMs / 1000} s waiting for the provider to come online.`);
    await sleep(500, signal);
  }
  throw new CancelledError('Demo interrupted; cleaned up.');
}
