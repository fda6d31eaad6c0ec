// `iocli lease show ID`: one lease in full.
import type { Context } from '../context.js';
import type { CommandResult, CommandSpec } from '../spec.js';
import { requireLeaseId } from './lease-id.js';

export interface LeaseShowOptions {
  leaseId: string;
}

export const leaseShow: CommandSpec<LeaseShowOptions> = {
  path: 'lease show',
  summary: 'Show one lease: state, GPUs, node, price, time left, how to reach it',
  args: ['<id>'],
  examples: ['iocli lease show lease_abc123', 'iocli lease show lease_abc123 --json'],
  parse: ({ args: [id] }) => ({ leaseId: requireLeaseId(id) }),
  run: runLeaseShow,
};

export async function runLeaseShow({ leaseId }: LeaseShowOptions, ctx: Context): Promise<CommandResult> {
  const api = await ctx.api();
  const [lease, network, { renderLease }, { reachInfo }] = await Promise.all([
    api.lease(leaseId, { signal: ctx.signal }),
    ctx.network(),
    import('../render/lease.js'),
    import('../../src/renter/format.js'),
  ]);
  const now = ctx.now();
  return {
    data: { lease, reach: reachInfo(lease) },
    human: (r) => renderLease(r, lease, network.decimals, now),
  };
}
