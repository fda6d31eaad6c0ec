// The work behind `iocli leases` and `iocli lease show|logs|extend|stop`, loaded only when one of them runs.
import { randomUUID } from 'node:crypto';
import type { Lease } from '../../src/api/schemas.js';
import { CancelledError, UsageError } from '../../src/errors.js';
import { extensionCost, isTerminal, reachInfo, timeLeft, tokens, workloadExitCode } from '../../src/renter/format.js';
import { followLogs, withRetries, withRetryHint } from '../../src/renter/lease-flow.js';
import { MAX_LEASE_HOURS } from '../../src/domain/pricing.js';
import { parseHours, parsePositiveInt, validateIdempotencyKey } from '../../src/renter/parse.js';
import { explorerLink } from '../../src/wallet/explorer.js';
import type { Context } from '../context.js';
import { renderLease } from '../rent-run.js';
import type { CommandResult } from '../spec.js';
import type { LeaseExtendOptions } from './extend.js';
import type { LeaseLogsOptions } from './logs.js';

function requireId(id: string | undefined): string {
  if (!id || !/^[A-Za-z0-9_.:-]{1,100}$/.test(id)) throw new UsageError(`Invalid lease id "${id ?? ''}".`, { hint: 'List your leases with `iocli leases`.' });
  return id;
}

/** Confirm a money-moving step: --yes answers it; not interactive without --yes is a usage error naming --yes. */
async function confirmOrFail(ctx: Context, question: string, what: string): Promise<void> {
  if (ctx.globals.yes) return;
  if (!ctx.prompter.interactive) {
    throw new UsageError(`${what} needs a confirmation, but this is not an interactive terminal.`, { hint: 'Pass --yes to confirm in advance.' });
  }
  if (!(await ctx.prompter.confirm(question, { flag: '--yes', default: false }))) throw new CancelledError('Cancelled: nothing was changed.');
}

export async function runLeases(options: { all?: boolean }, ctx: Context): Promise<CommandResult> {
  const api = await ctx.api();
  const [{ leases }, network] = await Promise.all([api.leases({ all: Boolean(options.all) }, { signal: ctx.signal }), ctx.network()]);
  const now = Date.now();
  return {
    data: { leases },
    human: (r) => {
      if (leases.length === 0) {
        r.line(options.all ? 'You have no leases yet.' : 'You have no active leases.');
        r.line(r.colors.dim(options.all ? 'Rent GPUs with `iocli rent`.' : 'Show ended ones with `iocli leases --all`; rent GPUs with `iocli rent`.'));
        return;
      }
      r.table(
        ['Lease', 'State', 'GPUs', 'Node', 'Image', 'Paid', 'Ends'],
        leases.map((l) => [
          l.id,
          l.state,
          `${l.gpus} × ${l.model ?? 'any'}`,
          [...new Set(l.allocations.map((a) => a.nodeId))].join(', ') || '-',
          l.image,
          tokens(l.totalPaid - l.refund, network.decimals),
          isTerminal(l.state) ? (l.stoppedAt ?? l.endsAt) : timeLeft(l.endsAt, now),
        ]),
      );
    },
  };
}

export async function runLeaseShow(id: string, ctx: Context): Promise<CommandResult> {
  const api = await ctx.api();
  const [lease, network] = await Promise.all([api.lease(requireId(id), { signal: ctx.signal }), ctx.network()]);
  return {
    data: { lease, reach: reachInfo(lease) },
    human: (r) => renderLease(r, lease, network.decimals),
  };
}

export async function runLeaseLogs(id: string, options: LeaseLogsOptions, ctx: Context): Promise<CommandResult | void> {
  const leaseId = requireId(id);
  const tail = options.tail !== undefined ? parsePositiveInt(options.tail, '--tail', 10_000) : undefined;
  const intervalMs = parsePositiveInt(String(options.interval ?? '1000'), '--interval', 60_000);
  const api = await ctx.api();
  const collected: Array<{ cursor: number; stream: string; data: string; at: string }> = [];
  const json = ctx.globals.json;
  if (json && options.raw) throw new UsageError('--raw and --json do not go together.', { hint: '--json keeps the text as it is; --raw writes the bytes.' });
  const result = await followLogs(api, leaseId, {
    tail,
    follow: Boolean(options.follow),
    intervalMs,
    signal: ctx.signal,
    ...(options.raw ? { encoding: 'base64' as const } : {}),
    onEntry: (entry) => {
      if (json) collected.push(entry);
      else if (options.raw) ctx.out.raw(entry.encoding === 'base64' ? Buffer.from(entry.data, 'base64') : entry.data);
      else ctx.out.print(entry.data.endsWith('\n') ? entry.data : `${entry.data}\n`);
    },
  });
  if (options.follow && result.ended && !json) {
    const exitCode = result.lease ? workloadExitCode(result.lease) : null;
    ctx.out.info(`Lease ${leaseId} has ended${result.lease ? ` (${result.lease.state}${exitCode !== null ? `, exit code ${exitCode}` : ''})` : ''}.`);
  }
  if (json) return { data: { leaseId, entries: collected, cursor: result.cursor } };
  if (result.entries === 0 && !options.follow) ctx.out.info(`No log lines for lease ${leaseId} yet.`);
}

export async function runLeaseExtend(id: string, options: LeaseExtendOptions, ctx: Context): Promise<CommandResult> {
  const leaseId = requireId(id);
  const hoursText =
    options.hours ??
    (await ctx.prompter.input('Hours to add', { flag: '--hours', validate: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 ? true : 'Whole hours, 1 or more.') }));
  const hours = parseHours(hoursText);
  const idempotencyKey = options.idempotencyKey !== undefined ? validateIdempotencyKey(options.idempotencyKey) : randomUUID();
  if (!options.dryRun && !ctx.globals.yes && !ctx.prompter.interactive) {
    throw new UsageError('Extending a lease spends tokens and needs a confirmation, but this is not an interactive terminal.', { hint: 'Pass --yes to confirm in advance.' });
  }
  const api = await ctx.api();
  const [lease, network] = await Promise.all([api.lease(leaseId, { signal: ctx.signal }), ctx.network({ required: true })]);
  if (isTerminal(lease.state)) {
    throw new UsageError(`Lease ${leaseId} has ended (${lease.state}) and cannot be extended.`, { hint: 'Rent again with `iocli rent`.' });
  }
  if (lease.hours + hours > MAX_LEASE_HOURS) {
    throw new UsageError(`A lease may last at most ${MAX_LEASE_HOURS} hours; ${leaseId} already has ${lease.hours}.`, { hint: `Use --hours ${MAX_LEASE_HOURS - lease.hours} or less.` });
  }
  const decimals = network.decimals;
  const cost = extensionCost(lease, hours);
  const keypair = await ctx.keypair();
  const rpcUrl = network.rpcUrl;
  const payments = network.paymentRequired && network.coordinator ? await import('../../src/renter/payment.js') : undefined;
  const plan = payments && { network: network.coordinator!, rpcUrl, payer: keypair, amount: cost, reference: payments.extensionReference(leaseId, lease.hours + hours) };
  if (payments && plan) await payments.ensureAffordable(plan);

  if (options.dryRun) {
    let payment: { amount: number; signature: string; simulation: unknown } | null = null;
    if (payments && plan) {
      const prepared = await payments.preparePayment(plan);
      payment = { amount: cost, signature: prepared.signature, simulation: await payments.simulatePayment(rpcUrl, prepared) };
    }
    return {
      data: { dryRun: true, leaseId, hours, cost, payment },
      human: (r) => r.keyValues({ 'Dry run': 'nothing was paid', Lease: leaseId, Adds: `${hours} h`, Cost: `${tokens(cost, decimals)} tokens` }),
    };
  }

  await confirmOrFail(ctx, `Extend lease ${leaseId} by ${hours} h for ${tokens(cost, decimals)} tokens?`, 'Extending a lease');
  const spinner = await ctx.out.spinner(`Paying ${tokens(cost, decimals)} tokens to extend ${leaseId} by ${hours} h`);
  let payment: { amount: number; signature: string; explorer?: string } | null = null;
  let extended: Lease;
  try {
    let transaction: string | undefined;
    if (payments && plan) {
      const prepared = await payments.preparePayment(plan);
      transaction = prepared.transaction;
      payment = { amount: cost, signature: prepared.signature, explorer: explorerLink(prepared.signature, rpcUrl) };
    }
    extended = await withRetries(
      () => api.extendLease(leaseId, { hours, ...(transaction ? { payment: { transaction } } : {}) }, { idempotencyKey, signal: ctx.signal }),
      { signal: ctx.signal, onRetry: (attempt, error) => spinner.update(`Retrying (${attempt}) after: ${error.message}`) },
    );
    spinner.succeed(`Lease ${leaseId} now ends ${extended.endsAt}`);
  } catch (error) {
    spinner.fail('The lease was not extended');
    const { paymentError } = await import('../../src/renter/errors.js');
    throw withRetryHint(paymentError(error) ?? error, `iocli lease extend ${leaseId} --hours ${hours}`, idempotencyKey);
  }
  return {
    data: { lease: extended, hours, cost, payment, idempotencyKey },
    human: (r) =>
      r.keyValues({
        Lease: extended.id,
        Added: `${hours} h for ${tokens(cost, decimals)} tokens`,
        Ends: `${extended.endsAt} (${timeLeft(extended.endsAt, Date.now())})`,
        Payment: payment ? `${payment.signature}${payment.explorer ? `  ${payment.explorer}` : ''}` : undefined,
      }),
  };
}

export async function runLeaseStop(id: string, ctx: Context): Promise<CommandResult> {
  const leaseId = requireId(id);
  if (!ctx.globals.yes && !ctx.prompter.interactive) {
    throw new UsageError('Stopping a lease needs a confirmation, but this is not an interactive terminal.', { hint: 'Pass --yes to confirm in advance.' });
  }
  const [api, network] = await Promise.all([ctx.api(), ctx.network()]);
  if (!ctx.globals.yes) {
    const lease = await api.lease(leaseId, { signal: ctx.signal });
    if (isTerminal(lease.state)) throw new UsageError(`Lease ${leaseId} has already ended (${lease.state}).`, { hint: `See it with \`iocli lease show ${leaseId}\`.` });
    await confirmOrFail(ctx, `Stop lease ${leaseId} (${lease.gpus} × ${lease.model ?? 'GPU'}, ${timeLeft(lease.endsAt, Date.now())})? The container is stopped; unused time is refunded.`, 'Stopping a lease');
  }
  const response = await api.stopLease(leaseId, { signal: ctx.signal });
  // A coordinator that pays refunds on chain adds the transfer's signature; the ledger-only one does not.
  const refundSignature = (response as { refundSignature?: unknown }).refundSignature ?? (response.lease as { refundSignature?: unknown }).refundSignature;
  const signature = typeof refundSignature === 'string' ? refundSignature : undefined;
  const explorer = signature ? explorerLink(signature, network.rpcUrl) : undefined;
  const decimals = network.decimals;
  return {
    data: { lease: response.lease, refund: response.refund, ...(signature ? { refundSignature: signature, explorer: explorer ?? null } : {}) },
    human: (r) => {
      r.success(`Stopped lease ${leaseId}.`);
      r.keyValues({
        Refund: `${tokens(response.refund, decimals)} tokens${response.refund === 0 ? ' (no unused time left)' : ''}`,
        Signature: signature,
        Explorer: explorer,
      });
    },
  };
}
