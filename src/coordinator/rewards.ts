// Provider rewards: the balance the ledger sums to, and claims paid out through the payout outbox.
import type { Claim, Rewards } from '../api/schemas/rewards.js';
import { iso, newId, type CoordinatorContext } from './context.js';
import { conflict, HttpError } from './http-error.js';
import type { ClaimsTable } from './tables.js';

export async function getRewards(ctx: CoordinatorContext, owner: string): Promise<Rewards> {
  const sums = await ctx.db
    .selectFrom('ledger')
    .select(['kind', (eb) => eb.fn.sum<number>('amount').as('total')])
    .where('account', '=', owner)
    .where('kind', 'in', ['accrual', 'claim'])
    .groupBy('kind')
    .execute();
  const accrued = Number(sums.find((s) => s.kind === 'accrual')?.total ?? 0);
  const claimedRows = await ctx.db
    .selectFrom('claims')
    .select(['state', (eb) => eb.fn.sum<number>('amount').as('total')])
    .where('owner', '=', owner)
    .where('kind', '=', 'claim')
    .where('state', '!=', 'failed')
    .groupBy('state')
    .execute();
  const claimed = Number(claimedRows.find((r) => r.state === 'paid')?.total ?? 0);
  const pending = claimedRows.filter((r) => r.state !== 'paid').reduce((n, r) => n + Number(r.total), 0);
  // claim rows in the ledger are negative: the balance is a sum, never overwritten.
  const balance = accrued + Number(sums.find((s) => s.kind === 'claim')?.total ?? 0);
  const ledger = await ctx.db
    .selectFrom('ledger')
    .select(['kind', 'amount', 'lease_id', 'claim_id', 'created_at'])
    .where('account', '=', owner)
    .where('kind', 'in', ['accrual', 'claim'])
    .orderBy('id', 'desc')
    .limit(100)
    .execute();
  const claims = await ctx.db.selectFrom('claims').selectAll().where('owner', '=', owner).where('kind', '=', 'claim').orderBy('created_at', 'desc').limit(100).execute();
  return {
    owner,
    accrued,
    claimed,
    pending,
    claimable: Math.max(0, balance),
    history: {
      ledger: ledger.map((l) => ({ kind: l.kind, amount: Number(l.amount), leaseId: l.lease_id, claimId: l.claim_id, at: iso(Number(l.created_at))! })),
      claims: claims.map(toClaim),
    },
  };
}

/** Outbox claim: one transaction moves the balance to a claim row with the signed transfer; then it is sent. */
export async function claimRewards(ctx: CoordinatorContext, owner: string): Promise<Claim> {
  const sender = ctx.options.payoutSender;
  if (!sender) throw new HttpError(503, 'PAYOUTS_UNAVAILABLE', 'This coordinator has no payout sender configured, so rewards cannot be claimed yet.', 'Rewards keep accruing; claim again once the operator enables payouts.');
  const now = ctx.options.now();
  const claimId = newId('claim');
  await ctx.engine.writeTransaction(async (trx) => {
    await ctx.engine.lockAccount(trx, owner);
    const balance = await trx
      .selectFrom('ledger')
      .select((eb) => eb.fn.sum<number>('amount').as('total'))
      .where('account', '=', owner)
      .where('kind', 'in', ['accrual', 'claim'])
      .executeTakeFirst();
    const amount = Number(balance?.total ?? 0);
    if (amount <= 0) throw conflict('NOTHING_TO_CLAIM', 'There is nothing to claim yet.', 'Rewards accrue per minute of confirmed running time.');
    const payout = await sender.prepare({ claimId, owner, amount });
    await trx.insertInto('claims').values({ id: claimId, kind: 'claim', lease_id: null, owner, amount, state: 'pending', signed_tx: payout.signedTransaction, signature: payout.signature, last_valid_block_height: payout.lastValidBlockHeight, error: null, created_at: now, updated_at: now }).execute();
    await trx.insertInto('ledger').values({ kind: 'claim', account: owner, amount: -amount, lease_id: null, claim_id: claimId, created_at: now }).execute();
  });
  await ctx.payouts!.settle(claimId, { fresh: true });
  return getClaim(ctx, claimId);
}

export async function latestClaimSince(ctx: CoordinatorContext, owner: string, since: number): Promise<Claim | undefined> {
  const row = await ctx.db.selectFrom('claims').selectAll().where('owner', '=', owner).where('kind', '=', 'claim').where('created_at', '>=', since).orderBy('created_at', 'desc').executeTakeFirst();
  return row ? toClaim(row) : undefined;
}

async function getClaim(ctx: CoordinatorContext, claimId: string): Promise<Claim> {
  return toClaim(await ctx.db.selectFrom('claims').selectAll().where('id', '=', claimId).executeTakeFirstOrThrow());
}

function toClaim(c: Pick<ClaimsTable, 'id' | 'owner' | 'amount' | 'state' | 'signature' | 'created_at'>): Claim {
  return { id: c.id, owner: c.owner, amount: Number(c.amount), state: c.state as Claim['state'], signature: c.signature, createdAt: iso(Number(c.created_at))! };
}
