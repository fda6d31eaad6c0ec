// `iocli lease stop ID`: end a lease early; the unused time is refunded.
import type { Context } from '../context.js';
import type { CommandResult, CommandSpec } from '../spec.js';
import { requireLeaseId } from './lease-id.js';

export interface LeaseStopOptions {
  leaseId: string;
}

export const leaseStop: CommandSpec<LeaseStopOptions> = {
  path: 'lease stop',
  summary: 'Stop a lease now and get the unused time refunded',
  description: 'Stop the container and end the lease. The unused share of what you paid is refunded (used time is rounded up to the minute).',
  args: ['<id>'],
  examples: ['iocli lease stop lease_abc123', 'iocli lease stop lease_abc123 --yes --json'],
  parse: ({ args: [id] }) => ({ leaseId: requireLeaseId(id) }),
  run: runLeaseStop,
};

export async function runLeaseStop({ leaseId }: LeaseStopOptions, ctx: Context): Promise<CommandResult> {
  const [{ confirmOrFail, ensureConfirmable }, { UsageError }, { isTerminal, timeLeft, tokens }, { explorerLink }] = await Promise.all([
    import('../prompts.js'),
    import('../../src/errors.js'),
    import('../../src/renter/format.js'),
    import('../../src/wallet/explorer.js'),
  ]);
  const stopping = { action: 'Stopping a lease' };
  ensureConfirmable(ctx, stopping);
  const [api, network] = await Promise.all([ctx.api(), ctx.network()]);
  if (!ctx.globals.yes) {
    const lease = await api.lease(leaseId, { signal: ctx.signal });
    if (isTerminal(lease.state)) throw new UsageError(`Lease ${leaseId} has already ended (${lease.state}).`, { hint: `See it with \`iocli lease show ${leaseId}\`.` });
    await confirmOrFail(ctx, `Stop lease ${leaseId} (${lease.gpus} × ${lease.model ?? 'GPU'}, ${timeLeft(lease.endsAt, ctx.now())})? The container is stopped; unused time is refunded.`, stopping);
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
