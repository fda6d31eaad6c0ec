// `iocli rewards`: what your nodes have earned, and what can be claimed now.
import type { Context } from '../context.js';
import type { CommandResult, CommandSpec } from '../spec.js';

export const rewardsShow: CommandSpec<Record<string, never>> = {
  path: 'rewards',
  summary: 'Show earned rewards: accrued, claimable, claimed, pending',
  description:
    'Show what your nodes have earned (after the network fee): accrued in total, claimable now, already claimed,\n' +
    'and pending (claims being paid out). Claim with `iocli rewards claim`.',
  examples: ['iocli rewards', 'iocli rewards --json'],
  parse: () => ({}),
  run: (_options, ctx) => runRewards(ctx),
};

export async function runRewards(ctx: Context): Promise<CommandResult> {
  const api = await ctx.api();
  const [rewards, network, { tokens }] = await Promise.all([api.rewards({ signal: ctx.signal }), ctx.network(), import('../../src/renter/format.js')]);
  const decimals = network.decimals;
  return {
    data: rewards,
    human: (r) => {
      r.keyValues({
        Owner: rewards.owner,
        Accrued: `${tokens(rewards.accrued, decimals)} tokens (earned in total, after the network fee)`,
        Claimable: `${tokens(rewards.claimable, decimals)} tokens`,
        Claimed: `${tokens(rewards.claimed, decimals)} tokens`,
        Pending: `${tokens(rewards.pending, decimals)} tokens${rewards.pending > 0 ? ' (claims being paid out)' : ''}`,
      });
      const claims = rewards.history?.claims ?? [];
      if (claims.length > 0) {
        r.heading('Claims');
        r.table(['Claim', 'Amount', 'State', 'Signature', 'When'], claims.slice(0, 20).map((c) => [c.id, tokens(c.amount, decimals), c.state, c.signature ?? '', c.createdAt]));
      }
      const ledger = rewards.history?.ledger ?? [];
      if (ledger.length > 0) {
        r.heading('Recent ledger');
        r.table(['Kind', 'Amount', 'Lease', 'Claim', 'When'], ledger.slice(0, 20).map((l) => [l.kind, tokens(l.amount, decimals), l.leaseId ?? '', l.claimId ?? '', l.at]));
      }
      if (rewards.claimable > 0) r.line(r.colors.dim('Claim with: iocli rewards claim'));
    },
  };
}
