// `iocli rewards`: what your nodes have earned, and what can be claimed now.
import type { CommandSpec } from '../spec.js';

export const rewardsShow: CommandSpec = {
  path: 'rewards',
  summary: 'Show earned rewards: accrued, claimable, claimed, pending',
  description:
    'Show what your nodes have earned (after the network fee): accrued in total, claimable now, already claimed,\n' +
    'and pending (claims being paid out). Claim with `iocli rewards claim`.',
  examples: ['iocli rewards', 'iocli rewards --json'],
  async run(_args, _options, ctx) {
    const { runRewards } = await import('./rewards-run.js');
    return runRewards(ctx);
  },
};
