// The work behind `iocli offers` and `iocli rent`, loaded only when one of them runs.
import { randomUUID } from 'node:crypto';
import type { Lease, OffersQuery, Quote, QuoteRequest } from '../src/api/schemas.js';
import { parseImageRef } from '../src/domain/image-ref.js';
import { isActiveLeaseState } from '../src/domain/lease-states.js';
import { workloadProblems } from '../src/domain/workload.js';
import { CancelledError, UsageError, UserError } from '../src/errors.js';
import { OFFER_TABLE_HEAD, isTerminal, leaseProgressText, offerRow, quoteLines, reachInfo, leaseIsolationText, leaseNetworkText, leaseUserText, rootFilesystemText, timeLeft, tokens, workloadExitCode } from '../src/renter/format.js';
import { followLogs, leaseEndedError, requestQuote, waitForLease } from '../src/renter/lease-flow.js';
import { payFor } from '../src/renter/pay.js';
import { parseTokenAmount } from '../src/domain/money.js';
import { parseEnvPairs, parseHours, parsePorts, parsePositiveInt, parseUser, splitCommand, validateIdempotencyKey } from '../src/renter/parse.js';
import type { Context } from './context.js';
import { confirmOrFail, ensureConfirmable } from './prompts.js';
import type { OffersOptions } from './offers.js';
import type { RentOptions } from './rent.js';
import type { HumanRenderer } from './output.js';
import type { CommandResult } from './spec.js';

/** GB on the command line → MB on the wire. Decimal GB, so "80" matches cards sold as 80 GB (81,559 MiB reported). */
export function vramFlagToMb(value: string, flag = '--min-vram'): number {
  const text = value.trim();
  const gb = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || gb <= 0 || gb > 10_000) throw new UsageError(`Invalid ${flag} "${value}".`, { hint: 'Use memory per GPU in GB, e.g. --min-vram 24.' });
  return Math.round(gb * 1000);
}

export async function runOffers(options: OffersOptions, ctx: Context): Promise<CommandResult> {
  const query: OffersQuery = {
    model: options.model,
    minVram: options.minVram !== undefined ? vramFlagToMb(options.minVram) : undefined,
    gpus: options.gpus !== undefined ? parsePositiveInt(options.gpus, '--gpus', 1024) : undefined,
    region: options.region,
    sort: options.sort ?? 'price',
    limit: options.limit !== undefined ? parsePositiveInt(options.limit, '--limit', 1000) : undefined,
  };
  const api = await ctx.api({ signed: false });
  // Prices are in the network's token: --max-price needs its decimals first; otherwise both are asked at once.
  let network = options.maxPrice !== undefined ? await ctx.network() : undefined;
  if (network && options.maxPrice !== undefined) query.maxPrice = parseTokenAmount(options.maxPrice, { flag: '--max-price', decimals: network.decimals });
  const [{ offers }, learned] = await Promise.all([api.offers(query, { signal: ctx.signal }), network ?? ctx.network()]);
  network = learned;
  const decimals = network.decimals;
  return {
    data: { offers },
    human: (r) => {
      if (offers.length === 0) {
        r.line('No offers match.');
        r.line(r.colors.dim('Loosen the filters (--model, --min-vram, --gpus, --max-price, --region), or try again later.'));
        return;
      }
      r.table(OFFER_TABLE_HEAD, offers.map((o) => offerRow(o, decimals)));
      r.line(r.colors.dim(`Prices in tokens per GPU-hour. Rent with: iocli rent --gpus N --model MODEL --image IMAGE`));
    },
  };
}

function parseImage(value: string): string {
  try {
    return parseImageRef(value.trim()).raw;
  } catch (error) {
    if (error instanceof UserError) throw new UsageError(`Invalid --image: ${error.message}`, { hint: error.hint });
    throw error;
  }
}

export interface ParsedRent {
  request: Omit<QuoteRequest, 'image' | 'maxPrice'> & { image?: string };
  maxPriceText?: string;
  dryRun: boolean;
  timeoutMs: number;
  idempotencyKey: string;
  /** Stream the output until the lease ends and exit with the workload's exit code. */
  follow: boolean;
  followIntervalMs: number;
}

/** argv options → a typed request; every bad value fails here, before any network call. */
export function parseRentOptions(options: RentOptions, newKey: () => string = randomUUID): ParsedRent {
  const command = options.cmd !== undefined ? splitCommand(options.cmd) : undefined;
  if (command && command.length === 0) throw new UsageError('--cmd is empty.', { hint: 'Leave --cmd out to run the image\'s default command.' });
  const timeoutText = String(options.timeout ?? '300').trim();
  if (!/^\d+$/.test(timeoutText)) throw new UsageError(`Invalid --timeout "${options.timeout}".`, { hint: 'Use whole seconds; 0 returns as soon as the lease is created.' });
  return {
    request: {
      gpus: parsePositiveInt(String(options.gpus ?? '1'), '--gpus', 1024),
      model: options.model,
      minVram: options.minVram !== undefined ? vramFlagToMb(options.minVram) : undefined,
      region: options.region,
      hours: parseHours(String(options.hours ?? '1')),
      multiNode: Boolean(options.multiNode),
      image: options.image !== undefined ? parseImage(options.image) : undefined,
      ...(command ? { command } : {}),
      env: parseEnvPairs(options.env ?? []),
      ports: parsePorts(options.port ?? []),
      // Only when asked: the request (and its stored quote) stays what it always was otherwise.
      ...(options.readOnlyRoot ? { readOnlyRoot: true } : {}),
      ...(options.user !== undefined ? { user: parseUser(options.user) } : {}),
      ...(options.egress === false ? { egress: false } : {}),
    },
    maxPriceText: options.maxPrice,
    dryRun: Boolean(options.dryRun),
    timeoutMs: Number(timeoutText) * 1000,
    idempotencyKey: options.idempotencyKey !== undefined ? validateIdempotencyKey(options.idempotencyKey) : newKey(),
    follow: Boolean(options.follow),
    followIntervalMs: parsePositiveInt(String(options.interval ?? '1000'), '--interval', 60_000),
  };
}

export interface RentResult {
  dryRun: boolean;
  idempotencyKey: string;
  quote: Quote;
  payment: { amount: number; signature: string; explorer?: string; simulation?: { ok: boolean; err: unknown; logs: string[] } } | null;
  lease?: Lease;
  reach?: ReturnType<typeof reachInfo>;
}

export async function runRent(options: RentOptions, ctx: Context): Promise<CommandResult> {
  const parsed = parseRentOptions(options);
  // Fail before any network call: a script must not hang on, or silently skip, the spending confirmation.
  if (!parsed.dryRun) {
    ensureConfirmable(ctx, {
      action: 'Renting',
      spendsTokens: true,
      hint: 'Pass --yes to confirm in advance (add --max-price to cap the price), or --dry-run to see the quote only.',
    });
  }
  const image =
    parsed.request.image ??
    parseImage(await ctx.prompter.input('Container image to run (e.g. pytorch/pytorch:2.3.0)', { flag: '--image', validate: (v) => (v.trim() ? true : 'An image is required.') }));
  // The node's own rules, before anything is quoted or paid.
  const problems = workloadProblems({ ...parsed.request, image });
  if (problems.length > 0) {
    throw new UsageError(`The workload cannot run: ${problems.map((p) => p.message).join(' ')}`, { code: 'WORKLOAD_INVALID', hint: 'Fix --image, --cmd, --env or --port; nothing was quoted or paid.' });
  }

  const [api, learned] = await Promise.all([ctx.api(), ctx.network({ required: true })]);
  const network = learned.coordinator!;
  const decimals = learned.decimals;
  const maxPrice = parsed.maxPriceText !== undefined ? parseTokenAmount(parsed.maxPriceText, { flag: '--max-price', decimals }) : undefined;
  const request: QuoteRequest = { ...parsed.request, image, ...(maxPrice !== undefined ? { maxPrice } : {}) };

  const spinner = await ctx.out.spinner(`Requesting a quote for ${request.gpus} × ${request.model ?? 'GPU'}`);
  let quote: Quote;
  try {
    // A dry run only looks: its quote holds no GPUs that others could rent meanwhile.
    quote = await requestQuote(api, parsed.dryRun ? { ...request, hold: false } : request, decimals, { signal: ctx.signal, idempotencyKey: parsed.idempotencyKey });
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
    checkAffordable: options.idempotencyKey === undefined || parsed.dryRun,
    dryRun: parsed.dryRun,
    idempotencyKey: parsed.idempotencyKey,
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
    submit: (transaction) =>
      api.createLease({ quoteId: quote.quoteId, ...(transaction ? { payment: { transaction } } : {}) }, { idempotencyKey: parsed.idempotencyKey, signal: ctx.signal }),
    recordedSignature: (created) => created.paymentSignature,
  });

  if (outcome.dryRun) {
    const payment = outcome.payment;
    const result: RentResult = { dryRun: true, idempotencyKey: parsed.idempotencyKey, quote, payment };
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

  let lease = outcome.result;
  const payment: RentResult['payment'] = outcome.payment;
  // A coordinator that predates the flag drops it silently: say so rather than let the renter assume it.
  if (request.readOnlyRoot && lease.readOnlyRoot !== true) {
    ctx.out.warn(`The coordinator did not record --read-only-root: lease ${lease.id} runs with a writable root filesystem.`);
  }
  if (request.user && !lease.user) ctx.out.warn(`The coordinator did not record --user: lease ${lease.id} runs as the image's default user.`);
  if (request.egress === false && lease.egress !== false) ctx.out.warn(`The coordinator did not record --no-egress: lease ${lease.id} may reach the internet.`);

  if (parsed.timeoutMs > 0 && lease.state !== 'running' && !isTerminal(lease.state)) {
    const started = Date.now();
    const waiting = await ctx.out.spinner(leaseProgressText(lease, 0));
    const outcome = await waitForLease(api, lease, {
      timeoutMs: parsed.timeoutMs,
      signal: ctx.signal,
      onUpdate: (current) => waiting.update(leaseProgressText(current, Date.now() - started)),
    });
    lease = outcome.lease;
    if (lease.state === 'running') waiting.succeed('The node started the container');
    else if (!outcome.timedOut && (workloadExitCode(lease) === 0 || (parsed.follow && workloadExitCode(lease) !== null))) {
      waiting.succeed(`The container ran and exited with code ${workloadExitCode(lease)}`);
    }
    else {
      waiting.fail(`Lease ${lease.id} is ${lease.state}`);
      if (!outcome.timedOut) throw leaseEndedError(lease, decimals, tokens);
      const next = `Check it with \`iocli lease show ${lease.id}\`; stop it (refunding unused time) with \`iocli lease stop ${lease.id}\`.`;
      if (ctx.signal.aborted) throw new CancelledError(`Stopped waiting; lease ${lease.id} was paid and is still ${lease.state}. ${next}`);
      throw new UserError(`Lease ${lease.id} is still ${lease.state} after ${parsed.timeoutMs / 1000} s.`, {
        code: 'LEASE_NOT_RUNNING',
        hint: `It was paid and may still start. ${next}`,
        details: { leaseId: lease.id, state: lease.state },
      });
    }
  }

  if (parsed.follow) return followToTheEnd(ctx, api, lease, { decimals, quote, payment, idempotencyKey: parsed.idempotencyKey, intervalMs: parsed.followIntervalMs });

  // A job that already finished by itself is a result, not an error: exit 0 completed it; any other code failed it.
  if (isTerminal(lease.state) && workloadExitCode(lease) !== 0) throw leaseEndedError(lease, decimals, tokens);
  const result: RentResult = { dryRun: false, idempotencyKey: parsed.idempotencyKey, quote, payment, lease, reach: reachInfo(lease) };
  return { data: result, human: (r) => renderLease(r, lease, decimals, payment) };
}

/**
 * `rent --follow`: the container's output as it comes (stdout and stderr to ours, as `docker run` does), until the lease
 * ends; then the workload's exit code becomes ours. A lease that ended without its workload exiting (stopped, expired,
 * a node fault) is an error; Ctrl-C stops following and leaves the lease running.
 */
async function followToTheEnd(
  ctx: Context,
  api: Awaited<ReturnType<Context['api']>>,
  created: Lease,
  { decimals, quote, payment, idempotencyKey, intervalMs }: { decimals: number; quote: Quote; payment: RentResult['payment']; idempotencyKey: string; intervalMs: number },
): Promise<CommandResult> {
  const json = ctx.globals.json;
  ctx.out.info(`Following the output of lease ${created.id} until it ends (Ctrl-C stops following; the lease keeps running).`);
  const followed = await followLogs(api, created.id, {
    follow: true,
    intervalMs,
    signal: ctx.signal,
    onEntry: (entry) => {
      if (json) return;
      const text = entry.data.endsWith('\n') ? entry.data : `${entry.data}\n`;
      if (entry.stream === 'stderr') ctx.out.printError(text);
      else ctx.out.print(text);
    },
  });
  if (!followed.ended || !followed.lease) {
    throw new CancelledError(`Stopped following; lease ${created.id} keeps running until ${created.endsAt}. Follow it again with \`iocli lease logs ${created.id} --follow\`.`);
  }
  const lease = followed.lease;
  const exitCode = workloadExitCode(lease);
  if (exitCode === null) throw leaseEndedError(lease, decimals, tokens);
  const refund = lease.refund > 0 ? `; ${tokens(lease.refund, decimals)} tokens of unused time refunded` : '';
  ctx.out.info(`Lease ${lease.id} ${lease.state}: the container exited with code ${exitCode}${refund}.`);
  const result: RentResult = { dryRun: false, idempotencyKey, quote, payment, lease, reach: reachInfo(lease) };
  // The output already went to stdout: people get nothing more there; scripts get the lease (with its exitCode) as JSON.
  return { data: result, human: () => {}, exitCode };
}

/** The lease and how to reach it, for people. Shared with `iocli lease show`. */
export function renderLease(r: HumanRenderer, lease: Lease, decimals: number, payment?: RentResult['payment'], now = Date.now()): void {
  const reach = reachInfo(lease);
  const active = isActiveLeaseState(lease.state);
  if (lease.state === 'running') r.success(`Lease ${lease.id} is running.`);
  r.keyValues([
    ['Lease', lease.id],
    ['State', lease.state + (lease.failureReason ? ` (${lease.failureReason})` : '')],
    ['GPUs', `${lease.gpus} × ${lease.model ?? 'any'}`],
    ['Node', reach.nodes.length ? reach.nodes.join(', ') : undefined],
    ['Image', lease.image],
    ['Command', lease.command?.join(' ')],
    ['Root filesystem', rootFilesystemText(lease)],
    ['User', leaseUserText(lease)],
    ['Network', leaseNetworkText(lease)],
    ['Isolation', leaseIsolationText(lease)],
    ['Ports', reach.endpoints.length ? reach.endpoints.map((e) => `${e.port} on node ${e.nodeId}`).join(', ') : undefined],
    ['Price', `${tokens(lease.perHour, decimals)} tokens/h (${tokens(lease.pricePerGpuHour, decimals)} per GPU-hour)`],
    ['Paid', `${tokens(lease.totalPaid, decimals)} tokens for ${lease.hours} h`],
    ['Refund', lease.refund > 0 ? `${tokens(lease.refund, decimals)} tokens` : undefined],
    ['Unproven time', lease.frozenMinutes ? `${lease.frozenMinutes} min without evidence (liveness probes failed): ${tokens(lease.frozenRefund ?? 0, decimals)} tokens refunded` : undefined],
    ['Payment', payment ? `${payment.signature}${payment.explorer ? `  ${payment.explorer}` : ''}` : (lease.paymentSignature ?? undefined)],
    ['Started', lease.startedAt ?? undefined],
    active ? ['Ends', `${lease.endsAt} (${timeLeft(lease.endsAt, now)})`] : ['Ended', lease.stoppedAt ?? lease.endsAt],
    ['Exit code', lease.exitCode === null || lease.exitCode === undefined ? undefined : String(lease.exitCode)],
  ]);
  if (active) {
    r.line();
    r.line(r.colors.dim('Next:'));
    r.line(`  ${reach.commands.shell}`);
    for (const endpoint of reach.endpoints) r.line(`  ${endpoint.forward}`);
    r.line(`  ${reach.commands.logs}`);
    r.line(`  ${reach.commands.extend}`);
    r.line(`  ${reach.commands.stop}`);
  }
}
