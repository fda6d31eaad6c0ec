// `iocli leases`: your leases, active ones unless --all.
import type { Context } from './context.js';
import type { CommandResult, CommandSpec } from './spec.js';

export interface LeasesOptions {
  all: boolean;
}

export const leases: CommandSpec<LeasesOptions> = {
  path: 'leases',
  summary: 'List your leases (active ones; --all for every lease)',
  options: [{ flags: '-a, --all', description: 'include completed, stopped and failed leases' }],
  examples: ['iocli leases', 'iocli leases --all --json'],
  parse: ({ flags }) => ({ all: Boolean(flags.all) }),
  run: runLeases,
};

export async function runLeases(options: LeasesOptions, ctx: Context): Promise<CommandResult> {
  const api = await ctx.api();
  const [{ leases }, network, { isTerminal, timeLeft, tokens }] = await Promise.all([
    api.leases({ all: options.all }, { signal: ctx.signal }),
    ctx.network(),
    import('../src/renter/format.js'),
  ]);
  const now = ctx.now();
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
