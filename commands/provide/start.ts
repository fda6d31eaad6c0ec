// `iocli provide`: preflight, first-run setup (TTY) or flags, then the provider agent until Ctrl-C.
import type { Context } from '../context.js';
import type { HumanRenderer } from '../output.js';
import type { CommandSpec, ParsedArgv } from '../spec.js';
import type { ProviderPreflight } from '../../src/provider/preflight.js';
import { parseGpuSelection, parseSimulateGpus, validateRegion, type GpuSelection, type SimulatedGpuRequest } from '../../src/provider/options.js';
import { parseTokenAmount } from '../../src/domain/money.js';
import { UsageError } from '../../src/errors.js';
import { providerDataDir } from '../../src/provider/data-dir.js';
import { DEFAULT_CHALLENGE_KERNEL_IMAGE } from '../../src/provider/challenge-kernel.js';

/** The flags as commander hands them over; `provide install-service` forwards them as given. */
export interface ProvideFlags {
  preflight?: boolean;
  gpus?: string;
  price?: string;
  region?: string;
  simulateGpus?: string;
  interval?: string;
  machineId?: string;
  dataDir?: string;
  stopWorkloads?: boolean;
  stopTimeout?: string;
  drainTimeout?: string;
  publicHost?: string;
  logs?: boolean;
  verify?: boolean;
}

export interface ProvideOptions {
  /** Only check the machine. */
  preflightOnly: boolean;
  /** Given as flags; what is missing comes from settings or the first-run setup. */
  selection?: GpuSelection;
  pricePerGpuHour?: number;
  region?: string;
  simulate?: SimulatedGpuRequest;
  intervalMs: number;
  stopTimeoutSec: number;
  /** Infinity: until the running leases finish. */
  drainTimeoutMs: number;
  machineId?: string;
  dataDir: string;
  stopWorkloads: boolean;
  publicHost?: string;
  shipLogs: boolean;
  verify: boolean;
}

export const provideOptions = [
  { flags: '--preflight', description: 'only check this machine (Docker, NVIDIA runtime, GPUs, driver, disk); exit 3 on a blocking problem' },
  { flags: '--gpus <all|0,1>', description: 'GPUs to share: "all" or indices (setting share-gpus)' },
  { flags: '--price <tokens>', description: 'price per GPU-hour in tokens, e.g. 1.25 (setting price-per-gpu-hour)' },
  { flags: '--region <name>', description: 'region label, e.g. us-east (setting region)' },
  { flags: '--simulate-gpus <N[:MODEL]>', description: 'pretend to have N GPUs of MODEL (e.g. 8:H100); only a --dev coordinator accepts them' },
  { flags: '--interval <seconds>', description: 'heartbeat interval (default 5)' },
  { flags: '--machine-id <id>', description: 'override the stable machine id (several agents on one host)' },
  { flags: '--data-dir <path>', description: 'agent state and log folder (default ~/.local/share/iocli/provider, env IOCLI_PROVIDER_DIR)' },
  { flags: '--stop-workloads', description: 'on Ctrl-C, stop running lease containers instead of leaving them for the next start' },
  { flags: '--drain-timeout <seconds>', description: 'on Ctrl-C, keep heartbeating running leases until they finish, at most this long (default: until they finish; 0: leave them at once)' },
  { flags: '--public-host <host>', description: 'host name or IP renters use to reach --port workloads (default: this machine\'s hostname; 127.0.0.1 with a loopback coordinator)' },
  { flags: '--stop-timeout <seconds>', description: 'grace period between SIGTERM and SIGKILL when a lease container is stopped (default 10)' },
  { flags: '--no-logs', description: 'do not ship lease container logs to the coordinator' },
  { flags: '--no-verify', description: 'skip the one-time CUDA matmul benchmark of real GPUs at start' },
];

export const provide: CommandSpec<ProvideOptions> = {
  path: 'provide',
  summary: 'Share this machine\'s GPUs: check it, register the node and run the provider agent',
  description:
    'Checks Docker, the NVIDIA container runtime, GPUs, driver/CUDA and disk (alone: --preflight), asks on first run which GPUs ' +
    'to share, at what price and in which region (remembered in the config; flags for scripts), registers this machine and runs ' +
    'the agent: heartbeats, runs assigned lease containers with the security profile, stops what is no longer assigned. ' +
    'Ctrl-C drains: the node takes no new leases and keeps heartbeating its running ones until they finish (a second Ctrl-C ' +
    'leaves them running for the next start; --stop-workloads stops them).',
  options: provideOptions,
  examples: [
    'iocli provide --preflight',
    'iocli provide',
    'iocli provide --gpus 0,1 --price 2.10 --region eu-west --yes',
    'iocli provide --simulate-gpus 8:H100 --price 2 --region local --yes',
  ],
  parse: ({ flags, env }) => parseProvideFlags(flags as ProvideFlags, env),
  run: runProvide,
};

/** Every flag checked before anything slow runs (also by `provide install-service`, for the service it writes). */
export function parseProvideFlags(flags: ProvideFlags, env: ParsedArgv['env']): ProvideOptions {
  const simulate = flags.simulateGpus !== undefined ? parseSimulateGpus(flags.simulateGpus) : undefined;
  const interval = Number(flags.interval ?? '5');
  if (!Number.isFinite(interval) || interval < 0.2 || interval > 300) {
    throw new UsageError(`Invalid --interval "${flags.interval}".`, { hint: 'Seconds between heartbeats, from 0.2 to 300 (default 5).' });
  }
  const stopTimeoutSec = Number(flags.stopTimeout ?? '10');
  if (!Number.isSafeInteger(stopTimeoutSec) || stopTimeoutSec < 0 || stopTimeoutSec > 3600) {
    throw new UsageError(`Invalid --stop-timeout "${flags.stopTimeout}".`, { hint: 'Whole seconds from 0 to 3600 (default 10).' });
  }
  let drainTimeoutMs = Number.POSITIVE_INFINITY;
  if (flags.drainTimeout !== undefined) {
    const seconds = Number(flags.drainTimeout);
    if (!/^\d+$/.test(flags.drainTimeout) || !Number.isSafeInteger(seconds)) {
      throw new UsageError(`Invalid --drain-timeout "${flags.drainTimeout}".`, { hint: 'Whole seconds (0 leaves running leases at once).' });
    }
    drainTimeoutMs = seconds * 1000;
  }
  return {
    preflightOnly: flags.preflight === true,
    ...(flags.gpus !== undefined ? { selection: parseGpuSelection(flags.gpus) } : {}),
    ...(flags.price !== undefined ? { pricePerGpuHour: parseTokenAmount(flags.price, { flag: '--price', positive: true }) } : {}),
    ...(flags.region !== undefined ? { region: validateRegion(flags.region) } : {}),
    ...(simulate ? { simulate } : {}),
    intervalMs: Math.round(interval * 1000),
    stopTimeoutSec,
    drainTimeoutMs,
    ...(flags.machineId !== undefined ? { machineId: flags.machineId } : {}),
    dataDir: providerDataDir(flags.dataDir, env),
    stopWorkloads: flags.stopWorkloads === true,
    ...(flags.publicHost !== undefined ? { publicHost: flags.publicHost } : {}),
    shipLogs: flags.logs !== false,
    verify: flags.verify !== false,
  };
}

/** The challenge kernel image this machine's agent runs: IOCLI_CHALLENGE_IMAGE, else the default. */
export function challengeImage(env: ParsedArgv['env']): string {
  return env.IOCLI_CHALLENGE_IMAGE || DEFAULT_CHALLENGE_KERNEL_IMAGE;
}

export async function runProvide(options: ProvideOptions, ctx: Context) {
  const [{ runProviderPreflight, preflightData, preflightError }, { renderChecksToStderr, renderPreflight }] = await Promise.all([
    import('../../src/provider/preflight.js'),
    import('../render/preflight.js'),
  ]);
  const spinner = await ctx.out.spinner('Checking this machine');
  let preflight: ProviderPreflight;
  try {
    const runtime = await ctx.containers();
    preflight = await runProviderPreflight({
      runtime,
      simulate: options.simulate,
      detect: async () => (await import('../../src/gpu/inventory.js')).detectInventory({ signal: ctx.signal }),
      isolation: async (docker) => (await import('../../src/provider/lease-isolation.js')).gatherIsolationFacts(runtime, docker),
      kernelImage: { image: challengeImage(ctx.env), present: async () => (await import('../../src/provider/challenge-kernel-image.js')).kernelImagePresent(challengeImage(ctx.env), { signal: ctx.signal }) },
    });
  } finally {
    spinner.stop();
  }

  if (options.preflightOnly) {
    if (!preflight.ok) {
      if (!ctx.out.json) renderPreflight(preflight, await ctx.out.humanRenderer());
      throw preflightError(preflight);
    }
    return { data: preflightData(preflight), human: (r: HumanRenderer) => renderPreflight(preflight, r) };
  }

  renderChecksToStderr(preflight.checks, ctx);
  if (!preflight.ok) throw preflightError(preflight);

  const { resolveSetup } = await import('./first-run-setup.js');
  const setup = await resolveSetup(ctx, preflight, options.simulate, { selection: options.selection, price: options.pricePerGpuHour, region: options.region });
  const { openAgentDataDir, startProviderAgent } = await import('../../src/provider/start-agent.js');
  const keypair = await ctx.keypair();
  // The agent acts on what the coordinator answers for hours: every answer is checked (start-up cost does not matter here).
  const api = await ctx.api({ validateResponses: true });
  const { dataDir } = options;
  const machineId = await openAgentDataDir({ dataDir, owner: keypair.publicKey, machineIdOverride: options.machineId });
  const { summary, registration } = await startProviderAgent({
    api,
    keypair,
    dataDir,
    machineId,
    publicHost: options.publicHost,
    preflight,
    selection: setup.selection,
    simulate: options.simulate,
    region: setup.region,
    pricePerGpuHour: setup.pricePerGpuHour,
    signal: ctx.signal,
    intervalMs: options.intervalMs,
    stopTimeoutSec: options.stopTimeoutSec,
    stopWorkloads: options.stopWorkloads,
    drainTimeoutMs: options.drainTimeoutMs,
    shipLogs: options.shipLogs,
    verify: options.verify,
    challengeImage: challengeImage(ctx.env),
    report: ctx.out,
  });
  const data = {
    nodeId: summary.nodeId,
    machineId,
    simulated: Boolean(options.simulate),
    gpus: registration.gpus,
    heartbeats: summary.heartbeats,
    leftRunning: summary.leftRunning,
    stoppedLeases: summary.stoppedLeases,
    dataDir,
  };
  return {
    data,
    human: (r: HumanRenderer) => {
      r.keyValues({ Node: summary.nodeId ?? '-', Heartbeats: summary.heartbeats, 'Left running': summary.leftRunning, Stopped: summary.stoppedLeases });
    },
  };
}
