// The work behind `iocli rewards` and `iocli rewards claim`, loaded only when one of them runs.
import { randomUUID } from 'node:crypto';
import type { Claim } from '../../src/api/schemas.js';
import { CancelledError, ExitCode, UsageError, UserError } from '../../src/errors.js';
import { tokens } from '../../src/renter/format.js';
import { withRetries, withRetryHint } from '../../src/renter/lease-flow.js';
import { validateIdempotencyKey } from '../../src/renter/parse.js';
import { explorerLink } from '../../src/wallet/explorer.js';
import type { Context } from '../context.js';
import type { CommandResult } from '../spec.js';

export async function runRewards(ctx: Context): Promise<CommandResult> {
  const api = await ctx.api();
  const [rewards, network] = await Promise.all([api.rewards({ signal: ctx.signal }), ctx.network()]);
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

export async function runRewardsClaim(options: { idempotencyKey?: string }, ctx: Context): Promise<CommandResult> {
  const idempotencyKey = options.idempotencyKey !== undefined ? validateIdempotencyKey(options.idempotencyKey) : randomUUID();
  if (!ctx.globals.yes && !ctx.prompter.interactive) {
    throw new UsageError('Claiming rewards needs a confirmation, but this is not an interactive terminal.', { hint: 'Pass --yes to confirm in advance.' });
  }
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
  if (!ctx.globals.yes) {
    const yes = await ctx.prompter.confirm(`Claim ${tokens(rewards.claimable, decimals)} tokens to ${rewards.owner}?`, { flag: '--yes', default: true });
    if (!yes) throw new CancelledError('Cancelled: nothing was claimed.');
  }
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
