// `iocli provide`: preflight, first-run setup (TTY) or flags, then the provider agent until Ctrl-C.
import type { Context } from '../context.js';
import type { HumanRenderer } from '../output.js';
import type { CommandSpec } from '../spec.js';
import type { PreflightCheck, ProviderPreflight } from '../../src/provider/preflight.js';
import type { GpuSelection, SimulatedGpuRequest } from '../../src/provider/options.js';
import { UsageError } from '../../src/errors.js';
import { dataDirFrom } from './shared.js';

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

export const provide: CommandSpec<ProvideFlags> = {
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
  run: (_args, flags, ctx) => runProvide(flags, ctx),
};

function parseDrainTimeout(raw: string | undefined): number {
  if (raw === undefined) return Number.POSITIVE_INFINITY;
  const seconds = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(seconds)) {
    throw new UsageError(`Invalid --drain-timeout "${raw}".`, { hint: 'Whole seconds (0 leaves running leases at once).' });
  }
  return seconds * 1000;
}

function parseInterval(raw: string | undefined): number {
  const seconds = Number(raw ?? '5');
  if (!Number.isFinite(seconds) || seconds < 0.2 || seconds > 300) {
    throw new UsageError(`Invalid --interval "${raw}".`, { hint: 'Seconds between heartbeats, from 0.2 to 300 (default 5).' });
  }
  return Math.round(seconds * 1000);
}

export async function runProvide(flags: ProvideFlags, ctx: Context) {
  const [{ parseSimulateGpus, parseGpuSelection, validateRegion }, { parseTokenAmount }, { createDockerRuntime }, { runProviderPreflight }] = await Promise.all([
    import('../../src/provider/options.js'),
    import('../../src/domain/money.js'),
    import('../../src/docker/runtime.js'),
    import('../../src/provider/preflight.js'),
  ]);
  const { ExternalError } = await import('../../src/errors.js');
  // Validate every flag before anything slow runs.
  const simulate = flags.simulateGpus !== undefined ? parseSimulateGpus(flags.simulateGpus) : undefined;
  const intervalMs = parseInterval(flags.interval);
  const stopTimeoutSec = Number(flags.stopTimeout ?? '10');
  if (!Number.isSafeInteger(stopTimeoutSec) || stopTimeoutSec < 0 || stopTimeoutSec > 3600) {
    throw new UsageError(`Invalid --stop-timeout "${flags.stopTimeout}".`, { hint: 'Whole seconds from 0 to 3600 (default 10).' });
  }
  const flagSelection = flags.gpus !== undefined ? parseGpuSelection(flags.gpus) : undefined;
  const flagPrice = flags.price !== undefined ? parseTokenAmount(flags.price, { flag: '--price', positive: true }) : undefined;
  const flagRegion = flags.region !== undefined ? validateRegion(flags.region) : undefined;

  const spinner = await ctx.out.spinner('Checking this machine');
  let preflight: ProviderPreflight;
  try {
    const runtime = createDockerRuntime();
    preflight = await runProviderPreflight({
      runtime,
      simulate,
      detect: async () => (await import('../../src/gpu/inventory.js')).detectInventory({ signal: ctx.signal }),
      isolation: async (docker) => (await import('../../src/provider/lease-isolation.js')).gatherIsolationFacts(runtime, docker),
    });
  } finally {
    spinner.stop();
  }

  if (flags.preflight) {
    if (!preflight.ok) {
      if (!ctx.out.json) {
        const renderer = await ctx.out.humanRenderer();
        renderPreflight(preflight, renderer);
      }
      throw preflightError(preflight, ExternalError);
    }
    return { data: preflightData(preflight), human: (r: HumanRenderer) => renderPreflight(preflight, r) };
  }

  renderChecksToStderr(preflight.checks, ctx);
  if (!preflight.ok) throw preflightError(preflight, ExternalError);

  const setup = await resolveSetup(ctx, preflight, simulate, { selection: flagSelection, price: flagPrice, region: flagRegion });
  return runAgent(ctx, { flags, preflight, simulate, intervalMs, stopTimeoutSec, ...setup });
}

function preflightData(preflight: ProviderPreflight) {
  return {
    ok: preflight.ok,
    simulated: preflight.simulated,
    checks: preflight.checks,
    gpus: preflight.inventory?.gpus.map((g) => ({ index: g.index, uuid: g.uuid, model: g.model, name: g.name, vramMb: g.vramMb, migMode: g.migMode })) ?? [],
    driver: preflight.inventory?.driver ?? null,
    cuda: preflight.inventory?.cuda ?? null,
    docker: { client: preflight.docker.clientVersion, server: preflight.docker.serverVersion, runtimes: preflight.docker.runtimes },
    host: preflight.host,
    isolation: preflight.isolation ?? null,
  };
}

function preflightError(preflight: ProviderPreflight, ExternalError: typeof import('../../src/errors.js').ExternalError) {
  const failed = preflight.checks.filter((c) => c.status === 'fail');
  const hints = [...new Set(failed.map((c) => c.hint).filter((h): h is string => Boolean(h)))];
  return new ExternalError(`This machine cannot provide yet: ${failed.map((c) => c.title).join(', ')} failed.`, {
    code: 'PREFLIGHT_FAILED',
    hint: hints.join('\n      ') || undefined,
    details: preflightData(preflight),
  });
}

const MARK: Record<PreflightCheck['status'], string> = { ok: '✔', warn: '!', fail: '✖', skipped: '-' };

function renderPreflight(preflight: ProviderPreflight, r: HumanRenderer): void {
  const paint = (status: PreflightCheck['status'], text: string) =>
    status === 'ok' ? r.colors.green(text) : status === 'fail' ? r.colors.red(text) : status === 'warn' ? r.colors.yellow(text) : r.colors.dim(text);
  for (const check of preflight.checks) {
    r.line(`${paint(check.status, MARK[check.status])} ${check.title}: ${check.message}`);
    if (check.hint && check.status !== 'ok') r.line(`    ${r.colors.dim('fix:')} ${check.hint}`);
  }
  r.line(preflight.ok ? r.colors.green('Ready to provide.') : r.colors.red('Not ready: fix the problems above.'));
}

function renderChecksToStderr(checks: PreflightCheck[], ctx: Context): void {
  for (const check of checks) {
    if (check.status === 'ok' || check.status === 'skipped') ctx.out.info(`${MARK[check.status]} ${check.title}: ${check.message}`);
    else ctx.out.warn(`${check.title}: ${check.message}${check.hint ? `\n    fix: ${check.hint}` : ''}`);
  }
}

interface Setup {
  selection: GpuSelection;
  pricePerGpuHour: number;
  region: string;
}

/**
 * Flags win, then saved settings. Anything still missing is asked on a TTY (and saved), taken from the defaults with
 * --yes, or else a usage error naming the flag.
 */
async function resolveSetup(
  ctx: Context,
  preflight: ProviderPreflight,
  simulate: SimulatedGpuRequest | undefined,
  given: { selection?: GpuSelection; price?: number; region?: string },
): Promise<Setup> {
  const [{ parseGpuSelection, validateRegion, formatGpuSelection, suggestedPricePerGpuHour, guessRegion }, { parseTokenAmount, formatTokenAmount }, { isWholeGpu }] = await Promise.all([
    import('../../src/provider/options.js'),
    import('../../src/domain/money.js'),
    import('../../src/gpu/inventory.js'),
  ]);
  const settings = await ctx.settings();
  let selection = given.selection ?? (settings.shareGpus ? parseGpuSelection(settings.shareGpus, 'share-gpus setting') : undefined);
  let price = given.price ?? (settings.pricePerGpuHour ? parseTokenAmount(settings.pricePerGpuHour, { flag: 'price-per-gpu-hour setting', positive: true }) : undefined);
  let region = given.region ?? (settings.region ? validateRegion(settings.region, 'region setting') : undefined);

  // A MIG-enabled GPU is never offered whole: it is not a choice (preflight already said why).
  const detected = (preflight.inventory?.gpus ?? []).filter(isWholeGpu);
  const suggestion = () => suggestedPricePerGpuHour(simulate, detected);

  const missing = selection === undefined || price === undefined || region === undefined;
  if (!missing) return { selection: selection!, pricePerGpuHour: price!, region: region! };

  if (ctx.prompter.interactive && !ctx.globals.yes) {
    ctx.out.info('First-run setup (saved to your iocli config; change later with `iocli config set`).');
    await ensureWallet(ctx);
    if (selection === undefined) {
      if (simulate || detected.length <= 1) selection = 'all';
      else {
        const picked = await ctx.prompter.checkbox('Which GPUs do you want to share?', {
          flag: '--gpus',
          choices: detected.map((g) => ({ value: String(g.index), name: `#${g.index} ${g.model === 'unknown' ? g.name : g.model} (${g.uuid})`, checked: true })),
        });
        if (picked.length === 0) throw new UsageError('No GPU selected.', { hint: 'Select at least one GPU, or pass --gpus.' });
        selection = picked.length === detected.length ? 'all' : picked.map(Number).sort((a, b) => a - b);
      }
    }
    if (price === undefined) {
      const suggested = suggestion();
      const answer = await ctx.prompter.input(
        `Price per GPU-hour in tokens${suggested ? ` (catalogue suggestion ${formatTokenAmount(suggested)})` : ''}:`,
        {
          flag: '--price',
          default: suggested ? formatTokenAmount(suggested) : undefined,
          validate: (value) => {
            try {
              parseTokenAmount(value, { flag: '--price', positive: true });
              return true;
            } catch (error) {
              return (error as Error).message;
            }
          },
        },
      );
      price = parseTokenAmount(answer, { flag: '--price', positive: true });
    }
    if (region === undefined) {
      const answer = await ctx.prompter.input('Region label (lowercase, e.g. us-east, eu-west):', {
        flag: '--region',
        default: guessRegion(Intl.DateTimeFormat().resolvedOptions().timeZone ?? ''),
        validate: (value) => /^[a-z][a-z0-9-]{1,31}$/.test(value) || 'Use lowercase letters, digits and dashes, e.g. eu-west.',
      });
      region = validateRegion(answer);
    }
    const { openWritableStore } = await import('../../src/settings/store.js');
    const store = await openWritableStore(settings.configDir);
    store.set('shareGpus', formatGpuSelection(selection));
    store.set('pricePerGpuHour', formatTokenAmount(price));
    store.set('region', region);
    ctx.out.info(`Saved share-gpus, price-per-gpu-hour and region to ${store.path}.`);
    return { selection, pricePerGpuHour: price, region };
  }

  if (ctx.globals.yes) {
    const suggested = suggestion();
    if (price === undefined && suggested === undefined) {
      throw new UsageError('No price: this GPU model has no catalogue suggestion.', { hint: 'Pass --price TOKENS (per GPU-hour).' });
    }
    return { selection: selection ?? 'all', pricePerGpuHour: price ?? suggested!, region: region ?? 'local' };
  }
  const flag = selection === undefined ? '--gpus' : price === undefined ? '--price' : '--region';
  throw new UsageError(`Missing ${flag}: not running interactively, so the first-run setup cannot ask.`, {
    hint: `Pass ${flag} (or all of --gpus, --price, --region), save them with \`iocli config set\`, or add --yes to accept the defaults.`,
  });
}

async function ensureWallet(ctx: Context): Promise<void> {
  const { existsSync } = await import('node:fs');
  const path = await ctx.keypairPath();
  if (existsSync(path)) return;
  const create = await ctx.prompter.confirm(`No wallet at ${path}. Create one now (earnings are paid to it)?`, { flag: '--keypair', default: true });
  if (!create) throw new UsageError('A wallet is needed to register a node.', { hint: 'Create one with `iocli wallet new`, or pass --keypair PATH.' });
  const { generateKeypair, writeKeypairFile } = await import('../../src/wallet/keypair.js');
  const keypair = generateKeypair();
  await writeKeypairFile(path, keypair);
  ctx.out.info(`Created wallet ${keypair.publicKey} at ${path} (back this file up).`);
}

async function runAgent(
  ctx: Context,
  input: Setup & { flags: ProvideFlags; preflight: ProviderPreflight; simulate?: SimulatedGpuRequest; intervalMs: number; stopTimeoutSec: number },
) {
  const { openAgentDataDir, startProviderAgent } = await import('../../src/provider/start-agent.js');
  const keypair = await ctx.keypair();
  const api = await ctx.api();
  const dataDir = await dataDirFrom(input.flags.dataDir, ctx);
  const machineId = await openAgentDataDir({ dataDir, owner: keypair.publicKey, machineIdOverride: input.flags.machineId });
  const drainTimeoutMs = parseDrainTimeout(input.flags.drainTimeout);
  const { summary, registration } = await startProviderAgent({
    api,
    keypair,
    dataDir,
    machineId,
    publicHost: input.flags.publicHost,
    preflight: input.preflight,
    selection: input.selection,
    simulate: input.simulate,
    region: input.region,
    pricePerGpuHour: input.pricePerGpuHour,
    signal: ctx.signal,
    intervalMs: input.intervalMs,
    stopTimeoutSec: input.stopTimeoutSec,
    stopWorkloads: input.flags.stopWorkloads === true,
    drainTimeoutMs,
    shipLogs: input.flags.logs !== false,
    verify: input.flags.verify !== false,
    challengeImage: ctx.env.IOCLI_CHALLENGE_IMAGE || undefined,
    report: ctx.out,
  });
  const data = {
    nodeId: summary.nodeId,
    machineId,
    simulated: Boolean(input.simulate),
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
