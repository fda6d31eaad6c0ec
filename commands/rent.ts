// `iocli rent`: quote, confirm, pay, create the lease, and wait until the workload runs (with --follow: until it ends).
import type { Lease, Quote, QuoteRequest } from '../src/api/schemas/leases.js';
import { parseImageRef } from '../src/domain/image-ref.js';
import { CancelledError, UsageError, UserError } from '../src/errors.js';
import { parseEnvPairs, parseHours, parsePorts, parsePositiveInt, parseUser, splitCommand, validateIdempotencyKey, vramFlagToMb } from '../src/renter/parse.js';
import type { Context } from './context.js';
import type { LeasePayment } from './render/lease.js';
import type { CommandResult, CommandSpec, ParsedArgv } from './spec.js';

export interface RentOptions {
  request: Omit<QuoteRequest, 'image' | 'maxPrice'> & { image?: string };
  /** In tokens; parsed once the network's decimals are known. */
  maxPriceText?: string;
  dryRun: boolean;
  timeoutMs: number;
  /** Given to retry an earlier rent; run() makes a new one otherwise. */
  idempotencyKey?: string;
  /** Stream the output until the lease ends and exit with the workload's exit code. */
  follow: boolean;
  followIntervalMs: number;
}

const collect = (value: string, previous: unknown) => [...((previous as string[] | undefined) ?? []), value];

export const rent: CommandSpec<RentOptions> = {
  path: 'rent',
  summary: 'Rent GPUs and run a container on them',
  description:
    'Rent GPUs for a fixed number of hours (never open-ended) and run a container image on them.\n' +
    'Shows the quote (price per hour, total, network fee) and asks to confirm; --yes skips the question.\n' +
    "Pays with the network's token from your wallet (a signed transfer the coordinator submits), then waits until\n" +
    'the container runs. A retry of the same command with the same --idempotency-key never pays twice.\n' +
    'A container that exits by itself is a finished job: exit code 0 completes the lease, and unused time is refunded.\n' +
    "With --follow, rent streams the container's output until it ends and exits with its exit code, like `docker run`.",
  options: [
    { flags: '--gpus <n>', description: 'number of GPUs', defaultValue: '1' },
    { flags: '--model <name>', description: 'GPU model, e.g. H100 or 4090 (substring match)' },
    { flags: '--min-vram <GB>', description: 'at least this much memory per GPU, in GB' },
    { flags: '--region <name>', description: 'only nodes in this region' },
    { flags: '--image <ref>', description: 'container image, e.g. pytorch/pytorch:2.3.0 (asked for on a TTY)' },
    { flags: '--cmd <command>', description: 'command to run in the container (split like a shell would, but no shell runs it)' },
    { flags: '--env <NAME=value>', description: 'environment variable for the container (repeatable)', parse: collect, defaultValue: [] },
    { flags: '--port <port>', description: 'container port to expose (repeatable)', parse: collect, defaultValue: [] },
    { flags: '--hours <h>', description: 'lease length in whole hours, 1-720', defaultValue: '1' },
    { flags: '--max-price <tokens>', description: 'refuse (exit 4) if the price per GPU-hour is above this, in tokens' },
    { flags: '--multi-node', description: 'allow the GPUs to span several nodes when no single node has enough' },
    {
      flags: '--read-only-root',
      description: "run the container with a read-only root filesystem and a writable /tmp (tmpfs, counted in the memory limit); only for images that write nowhere else",
    },
    { flags: '--user <uid:gid>', description: "run the container as this numeric non-root user (default: the image's user, usually root)" },
    { flags: '--no-egress', description: 'give the container no route out (no internet); the rig\'s LAN and services are never reachable either way' },
    { flags: '--dry-run', description: 'quote, build and simulate the payment, but send nothing' },
    { flags: '--timeout <seconds>', description: 'how long to wait for the container to run (0: do not wait)', defaultValue: '300' },
    { flags: '--idempotency-key <key>', description: 'reuse a key from an earlier attempt so a retry never pays twice (default: a new key)' },
    { flags: '-f, --follow', description: "stream the container's output until it ends, then exit with its exit code (a batch job)" },
    { flags: '--interval <ms>', description: 'polling interval with --follow', defaultValue: '1000', hidden: true },
  ],
  examples: [
    'iocli rent --gpus 8 --model H100 --hours 2 --image pytorch/pytorch:2.3.0 --cmd "python train.py" --yes',
    'iocli rent --gpus 1 --image jupyter/base-notebook --port 8888 --env TOKEN=secret --max-price 1.5',
    'iocli rent --gpus 16 --model H100 --multi-node --image my/trainer:latest --dry-run --json',
    'iocli rent --gpus 1 --image my/inference:1.0 --read-only-root --yes',
    'iocli rent --gpus 1 --image my/trainer:latest --cmd "python train.py --epochs 3" --hours 2 --yes --follow',
    'iocli rent --gpus 1 --image my/sshd:latest --port 22 --user 1000:1000 --no-egress',
  ],
  parse: ({ flags }) => parseRentOptions(flags),
  run: runRent,
};

/** The flags as commander hands them over (strings; lists for repeatable flags). */
export type RentFlags = Partial<Record<'gpus' | 'model' | 'minVram' | 'region' | 'image' | 'cmd' | 'hours' | 'maxPrice' | 'user' | 'timeout' | 'idempotencyKey' | 'interval', string>> &
  Partial<Record<'multiNode' | 'readOnlyRoot' | 'egress' | 'dryRun' | 'follow', boolean>> & { env?: string[]; port?: string[] };

function parseImage(value: string): string {
  try {
    return parseImageRef(value.trim()).raw;
  } catch (error) {
    if (error instanceof UserError) throw new UsageError(`Invalid --image: ${error.message}`, { hint: error.hint });
    throw error;
  }
}

/** argv flags → a typed request; every bad value fails here, before any network call. */
export function parseRentOptions(flags: ParsedArgv['flags'] & RentFlags): RentOptions {
  const command = flags.cmd !== undefined ? splitCommand(flags.cmd) : undefined;
  if (command && command.length === 0) throw new UsageError('--cmd is empty.', { hint: 'Leave --cmd out to run the image\'s default command.' });
  const timeoutText = String(flags.timeout ?? '300').trim();
  if (!/^\d+$/.test(timeoutText)) throw new UsageError(`Invalid --timeout "${flags.timeout}".`, { hint: 'Use whole seconds; 0 returns as soon as the lease is created.' });
  return {
    request: {
      gpus: parsePositiveInt(String(flags.gpus ?? '1'), '--gpus', 1024),
      model: flags.model,
      minVram: flags.minVram !== undefined ? vramFlagToMb(flags.minVram) : undefined,
      region: flags.region,
      hours: parseHours(String(flags.hours ?? '1')),
      multiNode: Boolean(flags.multiNode),
      image: flags.image !== undefined ? parseImage(flags.image) : undefined,
      ...(command ? { command } : {}),
      env: parseEnvPairs(flags.env ?? []),
      ports: parsePorts(flags.port ?? []),
      // Only when asked: the request (and its stored quote) stays what it always was otherwise.
      ...(flags.readOnlyRoot ? { readOnlyRoot: true } : {}),
      ...(flags.user !== undefined ? { user: parseUser(flags.user) } : {}),
      ...(flags.egress === false ? { egress: false } : {}),
    },
    maxPriceText: flags.maxPrice,
    dryRun: Boolean(flags.dryRun),
    timeoutMs: Number(timeoutText) * 1000,
    ...(flags.idempotencyKey !== undefined ? { idempotencyKey: validateIdempotencyKey(flags.idempotencyKey) } : {}),
    follow: Boolean(flags.follow),
    followIntervalMs: parsePositiveInt(String(flags.interval ?? '1000'), '--interval', 60_000),
  };
}

export interface RentResult {
  dryRun: boolean;
  idempotencyKey: string;
  quote: Quote;
  payment: LeasePayment;
  lease?: Lease;
  reach?: ReturnType<typeof import('../src/renter/format.js').reachInfo>;
}

export async function runRent(options: RentOptions, ctx: Context): Promise<CommandResult> {
  const { confirmOrFail, ensureConfirmable } = await import('./prompts.js');
  // Fail before any network call: a script must not hang on, or silently skip, the spending confirmation.
  if (!options.dryRun) {
    ensureConfirmable(ctx, {
      action: 'Renting',
      spendsTokens: true,
      hint: 'Pass --yes to confirm in advance (add --max-price to cap the price), or --dry-run to see the quote only.',
    });
  }
  const image =
    options.request.image ??
    parseImage(await ctx.prompter.input('Container image to run (e.g. pytorch/pytorch:2.3.0)', { flag: '--image', validate: (v) => (v.trim() ? true : 'An image is required.') }));
  const [{ randomUUID }, { workloadProblems }, { parseTokenAmount }, format, flow, { payFor }] = await Promise.all([
    import('node:crypto'),
    import('../src/domain/workload.js'),
    import('../src/domain/money.js'),
    import('../src/renter/format.js'),
    import('../src/renter/lease-flow.js'),
    import('../src/renter/pay.js'),
  ]);
  const { quoteLines, tokens } = format;
  // The node's own rules, before anything is quoted or paid.
  const problems = workloadProblems({ ...options.request, image });
  if (problems.length > 0) {
    throw new UsageError(`The workload cannot run: ${problems.map((p) => p.message).join(' ')}`, { code: 'WORKLOAD_INVALID', hint: 'Fix --image, --cmd, --env or --port; nothing was quoted or paid.' });
  }
  const idempotencyKey = options.idempotencyKey ?? randomUUID();

  const [api, learned] = await Promise.all([ctx.api(), ctx.network({ required: true })]);
  const network = learned.coordinator!;
  const decimals = learned.decimals;
  const maxPrice = options.maxPriceText !== undefined ? parseTokenAmount(options.maxPriceText, { flag: '--max-price', decimals }) : undefined;
  const request: QuoteRequest = { ...options.request, image, ...(maxPrice !== undefined ? { maxPrice } : {}) };

  const spinner = await ctx.out.spinner(`Requesting a quote for ${request.gpus} × ${request.model ?? 'GPU'}`);
  let quote: Quote;
  try {
    // A dry run only looks: its quote holds no GPUs that others could rent meanwhile.
    quote = await flow.requestQuote(api, options.dryRun ? { ...request, hold: false } : request, decimals, { signal: ctx.signal, idempotencyKey });
    spinner.succeed(`Quote ${quote.quoteId}: ${tokens(quote.total, decimals)} tokens for ${quote.hours} h`);
  } catch (error) {
    spinner.fail('No quote');
    throw error;
  }

  const paid = network.mint !== null;
  const outcome = await payFor<Lease>({
    network,
    rpcUrl: learned.rpcUrl,
    payer: await ctx.keypair(),
    amount: quote.total,
    reference: quote.quoteId,
    // A retry with an earlier key may be replaying a rent that already paid (so the balance is lower now): the
    // coordinator answers it with the first lease, and still verifies any new payment, so only fresh rents are pre-checked.
    checkAffordable: options.idempotencyKey === undefined || options.dryRun,
    dryRun: options.dryRun,
    idempotencyKey,
    retryCommand: 'the same `iocli rent` command',
    signal: ctx.signal,
    confirm: async () => {
      if (ctx.globals.yes) return;
      // The quote goes to stderr with the question: stdout is reserved for the result.
      const lines = quoteLines(quote, decimals);
      const width = Math.max(...lines.map(([k]) => k.length)) + 1;
      for (const [key, value] of lines) ctx.out.info(`  ${`${key}:`.padEnd(width)} ${value}`);
      await confirmOrFail(ctx, `Pay ${tokens(quote.total, decimals)} tokens and start the lease?`, { action: 'Renting', spendsTokens: true, cancelled: 'Cancelled: nothing was paid.' });
    },
    progress: (text) => ctx.out.spinner(text),
    text: {
      paying: paid ? `Paying ${tokens(quote.total, decimals)} tokens and creating the lease` : 'Creating the lease (unpaid: development coordinator)',
      failed: 'The lease was not created',
      done: (created) => `Lease ${created.id} created (${created.state})`,
    },
    // Declined, cancelled or failed before paying: the quote's GPUs go back on offer now, not when it lapses.
    abandon: async () => {
      await flow.releaseQuoteQuietly(api, quote.quoteId);
    },
    submit: (transaction) => api.createLease({ quoteId: quote.quoteId, ...(transaction ? { payment: { transaction } } : {}) }, { idempotencyKey, signal: ctx.signal }),
    recordedSignature: (created) => created.paymentSignature,
  });

  if (outcome.dryRun) {
    const payment = outcome.payment;
    const result: RentResult = { dryRun: true, idempotencyKey, quote, payment };
    return {
      data: result,
      human: (r) => {
        r.heading('Dry run: nothing was paid or rented.');
        r.keyValues(quoteLines(quote, decimals));
        if (payment?.simulation) r.keyValues({ Payment: `${tokens(payment.amount, decimals)} tokens, simulation ${payment.simulation.ok ? 'succeeded' : `failed: ${JSON.stringify(payment.simulation.err)}`}` });
        else r.keyValues({ Payment: network.dev ? 'none (development coordinator: leases are unpaid)' : 'none' });
      },
    };
  }
  const { isTerminal, leaseProgressText, reachInfo, workloadExitCode } = format;
  const { leaseEndedError, waitForLease, followToTheEnd } = flow;
  let lease = outcome.result;
  const payment = outcome.payment;
  // A coordinator that predates the flag drops it silently: say so rather than let the renter assume it.
  if (request.readOnlyRoot && lease.readOnlyRoot !== true) ctx.out.warn(`The coordinator did not record --read-only-root: lease ${lease.id} runs with a writable root filesystem.`);
  if (request.user && !lease.user) ctx.out.warn(`The coordinator did not record --user: lease ${lease.id} runs as the image's default user.`);
  if (request.egress === false && lease.egress !== false) ctx.out.warn(`The coordinator did not record --no-egress: lease ${lease.id} may reach the internet.`);

  if (options.timeoutMs > 0 && lease.state !== 'running' && !isTerminal(lease.state)) {
    const started = ctx.now();
    const waiting = await ctx.out.spinner(leaseProgressText(lease, 0));
    const waited = await waitForLease(api, lease, { timeoutMs: options.timeoutMs, signal: ctx.signal, onUpdate: (current) => waiting.update(leaseProgressText(current, ctx.now() - started)) });
    lease = waited.lease;
    if (lease.state === 'running') waiting.succeed('The node started the container');
    else if (!waited.timedOut && (workloadExitCode(lease) === 0 || (options.follow && workloadExitCode(lease) !== null))) {
      waiting.succeed(`The container ran and exited with code ${workloadExitCode(lease)}`);
    } else {
      waiting.fail(`Lease ${lease.id} is ${lease.state}`);
      if (!waited.timedOut) throw leaseEndedError(lease, decimals, tokens);
      const next = `Check it with \`iocli lease show ${lease.id}\`; stop it (refunding unused time) with \`iocli lease stop ${lease.id}\`.`;
      if (ctx.signal.aborted) throw new CancelledError(`Stopped waiting; lease ${lease.id} was paid and is still ${lease.state}. ${next}`);
      throw new UserError(`Lease ${lease.id} is still ${lease.state} after ${options.timeoutMs / 1000} s.`, {
        code: 'LEASE_NOT_RUNNING',
        hint: `It was paid and may still start. ${next}`,
        details: { leaseId: lease.id, state: lease.state },
      });
    }
  }
  const result = (final: Lease): RentResult => ({ dryRun: false, idempotencyKey, quote, payment, lease: final, reach: reachInfo(final) });
  if (options.follow) {
    ctx.out.info(`Following the output of lease ${lease.id} until it ends (Ctrl-C stops following; the lease keeps running).`);
    const followed = await followToTheEnd(api, lease, {
      decimals,
      intervalMs: options.followIntervalMs,
      signal: ctx.signal,
      onEntry: (entry) => {
        if (ctx.globals.json) return;
        const text = entry.data.endsWith('\n') ? entry.data : `${entry.data}\n`;
        if (entry.stream === 'stderr') ctx.out.printError(text);
        else ctx.out.print(text);
      },
    });
    const refund = followed.lease.refund > 0 ? `; ${tokens(followed.lease.refund, decimals)} tokens of unused time refunded` : '';
    ctx.out.info(`Lease ${followed.lease.id} ${followed.lease.state}: the container exited with code ${followed.exitCode}${refund}.`);
    // The output already went to stdout: people get nothing more there; scripts get the lease (with its exitCode) as JSON.
    return { data: result(followed.lease), human: () => {}, exitCode: followed.exitCode };
  }
  // A job that already finished by itself is a result, not an error: exit 0 completed it; any other code failed it.
  if (isTerminal(lease.state) && workloadExitCode(lease) !== 0) throw leaseEndedError(lease, decimals, tokens);
  const { renderLease } = await import('./render/lease.js');
  const now = ctx.now();
  return { data: result(lease), human: (r) => renderLease(r, lease, decimals, now, payment) };
}
