// `iocli rewards claim`: pay the claimable rewards out to your wallet.
import type { CommandSpec } from '../spec.js';

export const rewardsClaim: CommandSpec<{ idempotencyKey?: string }> = {
  path: 'rewards claim',
  summary: 'Claim your rewards: transfer the claimable amount to your wallet',
  description:
    'Transfer everything claimable to your wallet. Asks to confirm (--yes skips). Safe to retry: the same\n' +
    '--idempotency-key returns the same claim instead of paying twice, and the coordinator pays each claim exactly once.',
  options: [{ flags: '--idempotency-key <key>', description: 'reuse a key from an earlier attempt (default: a new key)' }],
  examples: ['iocli rewards claim', 'iocli rewards claim --yes --json'],
  async run(_args, options, ctx) {
    const { runRewardsClaim } = await import('./rewards-run.js');
    return runRewardsClaim(options, ctx);
  },
};
