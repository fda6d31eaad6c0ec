// `iocli rewards claim`: pay the claimable rewards out to your wallet.
import type { Claim } from '../../src/api/schemas/rewards.js';
import { validateIdempotencyKey } from '../../src/renter/parse.js';
import type { Context } from '../context.js';
import type { CommandResult, CommandSpec } from '../spec.js';

export interface RewardsClaimOptions {
  /** Given to retry an earlier claim; run() makes a new one otherwise. */
  idempotencyKey?: string;
}

export const rewardsClaim: CommandSpec<RewardsClaimOptions> = {
  path: 'rewards claim',
  summary: 'Claim your rewards: transfer the claimable amount to your wallet',
  description:
    'Transfer everything claimable to your wallet. Asks to confirm (--yes skips). Safe to retry: the same\n' +
    '--idempotency-key returns the same claim instead of paying twice, and the coordinator pays each claim exactly once.',
  options: [{ flags: '--idempotency-key <key>', description: 'reuse a key from an earlier attempt (default: a new key)' }],
  examples: ['iocli rewards claim', 'iocli rewards claim --yes --json'],
  parse: ({ flags }) => (flags.idempotencyKey !== undefined ? { idempotencyKey: validateIdempotencyKey(String(flags.idempotencyKey)) } : {}),
  run: runRewardsClaim,
};

export async function runRewardsClaim(options: RewardsClaimOptions, ctx: Context): Promise<CommandResult> {
  const [{ randomUUID }, { ExitCode, UserError }, { tokens }, { withRetries, withRetryHint }, { explorerLink }, { confirmOrFail, ensureConfirmable }] = await Promise.all([
    import('node:crypto'),
    import('../../src/errors.js'),
    import('../../src/renter/format.js'),
    import('../../src/renter/lease-flow.js'),
    import('../../src/wallet/explorer.js'),
    import('../prompts.js'),
  ]);
  const idempotencyKey = options.idempotencyKey ?? randomUUID();
  const claiming = { action: 'Claiming rewards', cancelled: 'Cancelled: nothing was claimed.', default: true };
  ensureConfirmable(ctx, claiming);
  const api = await ctx.api();
  const [rewards, network] = await Promise.all([api.rewards({ signal: ctx.signal }), ctx.network()]);
  const decimals = network.decimals;
  // A retry with a key names an earlier claim: let the coordinator answer it even though nothing is claimable any more.
  if (rewards.claimable <= 0 && options.idempotencyKey === undefined) {
    throw new UserError('Nothing to claim: your claimable balance is 0.', {
      exitCode: ExitCode.unavailable,
      code: 'NOTHING_TO_CLAIM',
      hint: rewards.pending > 0 ? `${tokens(rewards.pending, decimals)} tokens are already being paid out; see \`iocli rewards\`.` : 'Rewards accrue per minute while your nodes run leases (`iocli provide`).',
      details: { ...rewards },
    });
  }
  await confirmOrFail(ctx, `Claim ${tokens(rewards.claimable, decimals)} tokens to ${rewards.owner}?`, claiming);
  const spinner = await ctx.out.spinner(`Claiming ${tokens(rewards.claimable, decimals)} tokens`);
  let claim: Claim;
  try {
    claim = await withRetries(() => api.claimRewards({ idempotencyKey, signal: ctx.signal }), {
      signal: ctx.signal,
      onRetry: (attempt, error) => spinner.update(`Retrying (${attempt}) after: ${error.message}`),
    });
    spinner.succeed(`Claim ${claim.id}: ${tokens(claim.amount, decimals)} tokens (${claim.state})`);
  } catch (error) {
    spinner.fail('The claim did not complete');
    throw withRetryHint(error, 'iocli rewards claim', idempotencyKey);
  }
  const explorer = claim.signature ? explorerLink(claim.signature, network.rpcUrl) : undefined;
  return {
    data: { claim, explorer: explorer ?? null, idempotencyKey },
    human: (r) => {
      if (claim.state === 'paid') r.success(`Claimed ${tokens(claim.amount, decimals)} tokens.`);
      else r.line(`Claim ${claim.id} is ${claim.state}: ${tokens(claim.amount, decimals)} tokens.`);
      r.keyValues({
        Claim: claim.id,
        Amount: `${tokens(claim.amount, decimals)} tokens`,
        State: claim.state,
        Signature: claim.signature ?? undefined,
        Explorer: explorer,
      });
      if (claim.state !== 'paid' && claim.state !== 'failed') r.line(r.colors.dim('The coordinator pays each claim exactly once; check progress with `iocli rewards`.'));
    },
  };
}
