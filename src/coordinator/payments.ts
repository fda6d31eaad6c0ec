// Renter payments: one verified on-chain transfer per quote or extension, refunds through the payout outbox, and
// recovery of payments that landed but never became a lease.
import { isUniqueViolation, newId, type CoordinatorContext } from './context.js';
import type { Db } from './db.js';
import { conflict, HttpError } from './http-error.js';

/** Verify the renter's transfer and return its signature (null for an unpaid dev-mode lease). */
export async function takePayment(
  ctx: CoordinatorContext,
  renter: string,
  amount: number,
  reference: string,
  payment: { transaction: string } | undefined,
  { quoteId }: { quoteId?: string } = {},
): Promise<string | null> {
  const verifier = ctx.options.paymentVerifier;
  if (!verifier) {
    if (ctx.options.dev) return null;
    throw new HttpError(503, 'PAYMENTS_UNAVAILABLE', 'This coordinator cannot verify payments (no payment verifier configured).', 'Contact the operator; development coordinators (--dev) accept unpaid leases.');
  }
  if (!payment) throw new HttpError(402, 'PAYMENT_REQUIRED', `A payment of ${amount} base units is required (payment.transaction).`, 'iocli signs the transfer for you: run `iocli rent` with a funded wallet.');
  let reserved: string | undefined;
  const reserve = async (signature: string) => {
    if (reserved === signature) return;
    await reservePayment(ctx, signature, reference, renter, amount, quoteId);
    reserved = signature;
  };
  try {
    const verified = await verifier.verify({ renter, amount, reference, transaction: payment.transaction, reserve });
    // A verifier that did not reserve up front is still held to one payment per transaction.
    await reserve(verified.signature);
    await ctx.db.updateTable('payments').set({ state: 'confirmed' }).where('signature', '=', verified.signature).execute();
    return verified.signature;
  } catch (error) {
    // A definite rejection frees the reservation; anything else (RPC gone mid-wait) may still land: recoverPayments decides.
    if (reserved && error instanceof HttpError && error.status < 500) {
      await ctx.db.deleteFrom('payments').where('signature', '=', reserved).where('state', '=', 'pending').execute();
    }
    if (error instanceof HttpError) throw error;
    throw new HttpError(402, 'PAYMENT_REJECTED', `Payment rejected: ${(error as Error).message}`);
  }
}

/**
 * Claim the transaction (and the reference it pays) before anything is submitted: one transaction pays once. A quote's
 * payment is reserved only while the quote is not released, under the quote's row lock (releaseQuote takes it too), so
 * no money is ever taken for a quote that can no longer become a lease.
 */
async function reservePayment(ctx: CoordinatorContext, signature: string, reference: string, renter: string, amount: number, quoteId: string | undefined): Promise<void> {
  try {
    await ctx.engine.writeTransaction(async (trx) => {
      if (quoteId) {
        const live = await trx.updateTable('quotes').set({ released_at: null }).where('id', '=', quoteId).where('released_at', 'is', null).executeTakeFirst();
        if (Number(live.numUpdatedRows) !== 1) throw quoteReleased(quoteId);
      }
      await trx.insertInto('payments').values({ signature, reference, renter, amount, state: 'pending', created_at: ctx.options.now() }).execute();
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const bySignature = await ctx.db.selectFrom('payments').select(['reference']).where('signature', '=', signature).executeTakeFirst();
    if (bySignature) throw conflict('PAYMENT_REUSED', `This payment transaction (${signature}) already paid for ${bySignature.reference}.`, 'Sign a new payment for this quote.');
    throw conflict('ALREADY_PAID', `${reference} is already paid (or a payment for it is being confirmed).`, 'Request a new quote, or check `iocli leases`.');
  }
}

/** A released quote cannot be paid for (nothing was submitted). */
export function quoteReleased(quoteId: string): HttpError {
  return new HttpError(410, 'QUOTE_RELEASED', `Quote ${quoteId} was released: it holds no GPUs and cannot be paid for.`, 'Request a new quote (`iocli rent` does).');
}

/** The unused share of a paid lease goes back on chain through the payout outbox (in the caller's transaction). */
export async function queueRefund(
  ctx: CoordinatorContext,
  trx: Db,
  lease: { id: string | null; renter: string; payment_signature: string | null },
  amount: number,
  idPrefix: 'refund' | 'frozen' = 'refund',
): Promise<string | null> {
  // Only money that arrived on chain goes back on chain: dev-mode unpaid leases refund on the ledger only.
  if (amount <= 0 || !lease.payment_signature || !ctx.payouts) return null;
  const id = newId(idPrefix);
  await ctx.payouts.enqueue(trx, { id, kind: 'refund', owner: lease.renter, amount, leaseId: lease.id });
  return id;
}

/**
 * Payments that landed but never became a lease or an extension (a crash, a lost RPC connection, a failed insert)
 * are refunded in full through the outbox; reservations that never landed are dropped. Only rows older than
 * `olderThanMs` (well past any blockhash's life) are looked at, so payments being verified right now are left alone.
 */
export async function recoverPayments(ctx: CoordinatorContext, olderThanMs: number): Promise<number> {
  const verifier = ctx.options.paymentVerifier;
  if (!verifier?.status) return 0;
  const stale = await ctx.db.selectFrom('payments').selectAll().where('state', 'in', ['pending', 'confirmed']).where('created_at', '<', ctx.options.now() - olderThanMs).limit(500).execute();
  let refunded = 0;
  for (const payment of stale) {
    const outcome = await verifier.status(payment.signature).catch((error: unknown) => {
      ctx.options.onError?.(error, `payment ${payment.signature}`);
      return 'error' as const;
    });
    if (outcome === 'error') continue;
    if (outcome !== 'confirmed') {
      await ctx.db.deleteFrom('payments').where('signature', '=', payment.signature).where('state', '=', payment.state).execute();
      continue;
    }
    const payout = await ctx.engine.writeTransaction(async (trx) => {
      const taken = await trx.updateTable('payments').set({ state: 'refunded' }).where('signature', '=', payment.signature).where('state', 'in', ['pending', 'confirmed']).executeTakeFirst();
      if (Number(taken.numUpdatedRows) !== 1) return null;
      const now = ctx.options.now();
      const amount = Number(payment.amount);
      await trx.insertInto('ledger').values({ kind: 'payment', account: payment.renter, amount, lease_id: null, claim_id: payment.signature, created_at: now }).execute();
      await trx.insertInto('ledger').values({ kind: 'refund', account: payment.renter, amount, lease_id: null, claim_id: payment.signature, created_at: now }).execute();
      return queueRefund(ctx, trx, { id: null, renter: payment.renter, payment_signature: payment.signature }, amount);
    });
    if (payout) {
      refunded++;
      await ctx.payouts!.settle(payout);
    }
  }
  return refunded;
}
