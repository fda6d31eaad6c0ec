// The work behind `iocli leases` and `iocli lease show|logs|extend|stop`, loaded only when one of them runs.
import { randomUUID } from 'node:crypto';
import type { Lease } from '../../src/api/schemas.js';
import { CancelledError, UsageError } from '../../src/errors.js';
import { extensionCost, isTerminal, reachInfo, timeLeft, tokens, workloadExitCode } from '../../src/renter/format.js';
import { followLogs } from '../../src/renter/lease-flow.js';
import { MAX_LEASE_HOURS } from '../../src/domain/pricing.js';
import { parseHours, parsePositiveInt, validateIdempotencyKey } from '../../src/renter/parse.js';
import { explorerLink } from '../../src/wallet/explorer.js';
import { requireLeaseId } from './lease-id.js';
import type { Context } from '../context.js';
import { confirmOrFail, ensureConfirmable } from '../prompts.js';
import type { CommandResult } from '../spec.js';
import type { LeaseExtendOptions } from './extend.js';
import type { LeaseLogsOptions } from './logs.js';


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
          tokens(l.totalPaid - l.refund - (l.frozenRefund ?? 0), network.decimals),
          isTerminal(l.state) ? (l.stoppedAt ?? l.endsAt) : timeLeft(l.endsAt, now),
        ]),
      );
    },
  };
}

export async function runLeaseShow(id: string, ctx: Context): Promise<CommandResult> {
  const api = await ctx.api();
  const [lease, network, { renderLease }] = await Promise.all([api.lease(requireLeaseId(id), { signal: ctx.signal }), ctx.network(), import('../rent-run.js')]);
  return {
    data: { lease, reach: reachInfo(lease) },
    human: (r) => renderLease(r, lease, network.decimals),
  };
}

export async function runLeaseLogs(id: string, options: LeaseLogsOptions, ctx: Context): Promise<CommandResult | void> {
  const leaseId = requireLeaseId(id);
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
  const leaseId = requireLeaseId(id);
  const hoursText =
    options.hours ??
    (await ctx.prompter.input('Hours to add', { flag: '--hours', validate: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 ? true : 'Whole hours, 1 or more.') }));
  const hours = parseHours(hoursText);
  const idempotencyKey = options.idempotencyKey !== undefined ? validateIdempotencyKey(options.idempotencyKey) : randomUUID();
  const extending = { action: 'Extending a lease', spendsTokens: true };
  if (!options.dryRun) ensureConfirmable(ctx, extending);
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
  // Loaded here, not at the top: `iocli leases` shares this file and starts faster without them.
  const [{ payFor }, { extensionReference }] = await Promise.all([import('../../src/renter/pay.js'), import('../../src/renter/payment.js')]);
  const outcome = await payFor<Lease>({
    network: network.coordinator!,
    rpcUrl: network.rpcUrl,
    payer: await ctx.keypair(),
    amount: cost,
    reference: extensionReference(leaseId, lease.hours + hours),
    checkAffordable: true,
    dryRun: Boolean(options.dryRun),
    idempotencyKey,
    retryCommand: `iocli lease extend ${leaseId} --hours ${hours}`,
    signal: ctx.signal,
    confirm: () => confirmOrFail(ctx, `Extend lease ${leaseId} by ${hours} h for ${tokens(cost, decimals)} tokens?`, extending),
    progress: (text) => ctx.out.spinner(text),
    text: {
      paying: `Paying ${tokens(cost, decimals)} tokens to extend ${leaseId} by ${hours} h`,
      failed: 'The lease was not extended',
      done: (extended) => `Lease ${leaseId} now ends ${extended.endsAt}`,
    },
    submit: (transaction) => api.extendLease(leaseId, { hours, ...(transaction ? { payment: { transaction } } : {}) }, { idempotencyKey, signal: ctx.signal }),
  });

  if (outcome.dryRun) {
    return {
      data: { dryRun: true, leaseId, hours, cost, payment: outcome.payment },
      human: (r) => r.keyValues({ 'Dry run': 'nothing was paid', Lease: leaseId, Adds: `${hours} h`, Cost: `${tokens(cost, decimals)} tokens` }),
    };
  }
  const { result: extended, payment } = outcome;
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
  const leaseId = requireLeaseId(id);
  const stopping = { action: 'Stopping a lease' };
  ensureConfirmable(ctx, stopping);
  const [api, network] = await Promise.all([ctx.api(), ctx.network()]);
  if (!ctx.globals.yes) {
    const lease = await api.lease(leaseId, { signal: ctx.signal });
    if (isTerminal(lease.state)) throw new UsageError(`Lease ${leaseId} has already ended (${lease.state}).`, { hint: `See it with \`iocli lease show ${leaseId}\`.` });
    await confirmOrFail(ctx, `Stop lease ${leaseId} (${lease.gpus} × ${lease.model ?? 'GPU'}, ${timeLeft(lease.endsAt, Date.now())})? The container is stopped; unused time is refunded.`, stopping);
  }
  const response = await api.stopLease(leaseId, { signal: ctx.signal });
  // A coordinator that pays refunds on chain adds the transfer's signature; the ledger-only one does not.
  const signature = response.refundSignature ?? response.lease.refundSignature ?? undefined;
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
