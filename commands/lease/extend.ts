// `iocli lease extend ID --hours H`: pay for more hours on a running lease.
import type { Lease } from '../../src/api/schemas/leases.js';
import { parseHours, validateIdempotencyKey } from '../../src/renter/parse.js';
import type { Context } from '../context.js';
import type { CommandResult, CommandSpec } from '../spec.js';
import { requireLeaseId } from './lease-id.js';

export interface LeaseExtendOptions {
  leaseId: string;
  /** Asked for on a terminal when missing. */
  hours?: number;
  dryRun: boolean;
  idempotencyKey?: string;
}

export const leaseExtend: CommandSpec<LeaseExtendOptions> = {
  path: 'lease extend',
  summary: 'Add hours to an active lease (pays for them like rent does)',
  description:
    "Extend an active lease by whole hours at the lease's price. Shows the cost and asks to confirm (--yes skips),\n" +
    'then pays from your wallet. A retry with the same --idempotency-key never pays twice.',
  args: ['<id>'],
  options: [
    { flags: '--hours <h>', description: 'hours to add (whole hours)' },
    { flags: '--dry-run', description: 'show the cost and build the payment, but send nothing' },
    { flags: '--idempotency-key <key>', description: 'reuse a key from an earlier attempt so a retry never pays twice' },
  ],
  examples: ['iocli lease extend lease_abc123 --hours 2', 'iocli lease extend lease_abc123 --hours 1 --yes --json'],
  parse({ args: [id], flags }) {
    const f = flags as { hours?: string; dryRun?: boolean; idempotencyKey?: string };
    return {
      leaseId: requireLeaseId(id),
      ...(f.hours !== undefined ? { hours: parseHours(f.hours) } : {}),
      dryRun: Boolean(f.dryRun),
      ...(f.idempotencyKey !== undefined ? { idempotencyKey: validateIdempotencyKey(f.idempotencyKey) } : {}),
    };
  },
  run: runLeaseExtend,
};

export async function runLeaseExtend(options: LeaseExtendOptions, ctx: Context): Promise<CommandResult> {
  const { leaseId } = options;
  const hours =
    options.hours ??
    parseHours(await ctx.prompter.input('Hours to add', { flag: '--hours', validate: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 ? true : 'Whole hours, 1 or more.') }));
  const [{ randomUUID }, { confirmOrFail, ensureConfirmable }, { UsageError }, { MAX_LEASE_HOURS }, { extensionCost, isTerminal, timeLeft, tokens }] = await Promise.all([
    import('node:crypto'),
    import('../prompts.js'),
    import('../../src/errors.js'),
    import('../../src/domain/pricing.js'),
    import('../../src/renter/format.js'),
  ]);
  const idempotencyKey = options.idempotencyKey ?? randomUUID();
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
  const [{ payFor }, { extensionReference }] = await Promise.all([import('../../src/renter/pay.js'), import('../../src/renter/payment.js')]);
  const outcome = await payFor<Lease>({
    network: network.coordinator!,
    rpcUrl: network.rpcUrl,
    payer: await ctx.keypair(),
    amount: cost,
    reference: extensionReference(leaseId, lease.hours + hours),
    checkAffordable: true,
    dryRun: options.dryRun,
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
  const now = ctx.now();
  return {
    data: { lease: extended, hours, cost, payment, idempotencyKey },
    human: (r) =>
      r.keyValues({
        Lease: extended.id,
        Added: `${hours} h for ${tokens(cost, decimals)} tokens`,
        Ends: `${extended.endsAt} (${timeLeft(extended.endsAt, now)})`,
        Payment: payment ? `${payment.signature}${payment.explorer ? `  ${payment.explorer}` : ''}` : undefined,
      }),
  };
}
