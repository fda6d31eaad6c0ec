// Quotes: a placement priced and its GPUs held for a few minutes, or a 409 that explains why nothing fits; released
// early when its renter declines.
import { sql } from 'kysely';
import type { Allocation, Quote, QuoteInput, QuoteRelease } from '../api/schemas/leases.js';
import type { PlacedAllocation, PlacementExplanation, PlacementRequest } from '../domain/placement.js';
import { priceQuote } from '../domain/pricing.js';
import { iso, newId, type CoordinatorContext } from './context.js';
import type { Db } from './db.js';
import { conflict, HttpError, notFound } from './http-error.js';
import { findPlacement, placementTrust } from './offers.js';

/** A quote's GPUs stay held this long past its expiry, so a payment sent just before expiry still finds them while it confirms. */
export const HOLD_GRACE_MS = 2 * 60_000;
const HOLD_ATTEMPTS = 32;
/**
 * Quotes cost nothing, so without a cap one wallet could quote again and again and hold every GPU without paying. Past
 * this many GPUs held by its live quotes, a renter's next quote is priced but holds nothing (paying for it still gets a
 * lease while capacity lasts).
 */
export const DEFAULT_QUOTE_HOLDS_PER_RENTER = 64;

/**
 * Price a placement and hold its GPUs for the quote's lifetime, so a renter who pays for a quote gets the lease: no
 * other quote or lease takes held GPUs until the hold lapses. Concurrent quotes spread (a salted tie-break) and skip
 * GPUs another quote is holding right now rather than queueing behind it.
 */
export async function quote(ctx: CoordinatorContext, renter: string, input: QuoteInput): Promise<Quote> {
  const id = newId('q');
  const request: PlacementRequest = { gpus: input.gpus, model: input.model, minVram: input.minVram, region: input.region, maxPrice: input.maxPrice, multiNode: input.multiNode, spreadSalt: id };
  const now = ctx.options.now();
  const expiresAt = now + ctx.options.quoteTtlMs;
  const { placed, price } = await ctx.engine.writeTransaction(async (trx) => {
    const hold = input.hold && (await gpusHeldByRenter(trx, renter, now)) + input.gpus <= (ctx.options.quoteHoldsPerRenter ?? DEFAULT_QUOTE_HOLDS_PER_RENTER);
    const taken = new Set<string>();
    for (let attempt = 0; attempt < HOLD_ATTEMPTS; attempt++) {
      const placement = await findPlacement(trx, request, taken, { holder: null, now }, placementTrust(ctx));
      if (!placement.ok) throw noCapacity(input, placement.explanation);
      const ids = placement.allocations.flatMap((a) => a.gpuIds);
      if (hold) {
        const held = await ctx.engine.lockFreeGpus(trx, ids, { holder: null, now, skipLocked: true });
        if (!ids.every((gpuId) => held.has(gpuId))) {
          for (const gpuId of ids) if (!held.has(gpuId)) taken.add(gpuId);
          continue;
        }
        await trx.updateTable('gpus').set({ held_by: id, held_until: expiresAt + HOLD_GRACE_MS }).where('id', 'in', ids).execute();
      }
      const price = priceQuote(placement.allocations.map((a) => ({ pricePerGpuHour: a.pricePerGpuHour, gpus: a.gpuIds.length })), input.hours, ctx.options.feeBps);
      await trx
        .insertInto('quotes')
        .values({
          id,
          renter,
          request: JSON.stringify(input),
          allocations: JSON.stringify(placement.allocations),
          gpus: input.gpus,
          model: input.model ?? null,
          hours: input.hours,
          price_per_gpu_hour: price.pricePerGpuHour,
          per_hour: price.perHour,
          total: price.total,
          fee: price.fee,
          expires_at: expiresAt,
          lease_id: null,
          created_at: now,
        })
        .execute();
      return { placed: placement.allocations, price };
    }
    throw new HttpError(503, 'BUSY', 'Too many concurrent quotes for the same GPUs; nothing was held.', 'Retry in a moment.');
  });
  return { quoteId: id, gpus: input.gpus, model: input.model ?? null, hours: input.hours, pricePerGpuHour: price.pricePerGpuHour, perHour: price.perHour, total: price.total, fee: price.fee, expiresAt: iso(expiresAt)!, placement: placed.map(toAllocation) };
}

/**
 * Release a quote its renter will not pay for (declined, cancelled): its GPUs are free at once and it can no longer be
 * paid for. Idempotent: a quote released before, or one that lapsed, answers the same. Refused (409) once it became a
 * lease (QUOTE_USED) or once a payment for it was reserved (QUOTE_PAID): that money must become a lease or a refund.
 * Another wallet's quote reads as unknown (404).
 */
export async function releaseQuote(ctx: CoordinatorContext, renter: string, quoteId: string): Promise<QuoteRelease> {
  const now = ctx.options.now();
  return ctx.engine.writeTransaction(async (trx) => {
    // The update locks the row first: a payment reservation (payments.ts) locks it too, so on PostgreSQL the payment
    // check below is a new statement that sees any reservation committed before this lock was granted.
    await trx
      .updateTable('quotes')
      .set({ released_at: sql<number>`coalesce(released_at, ${now})` })
      .where('id', '=', quoteId)
      .where('renter', '=', renter)
      .where('lease_id', 'is', null)
      .execute();
    const quote = await trx.selectFrom('quotes').select(['renter', 'lease_id', 'released_at']).where('id', '=', quoteId).executeTakeFirst();
    if (!quote || quote.renter !== renter) throw notFound('Quote', quoteId);
    if (quote.lease_id) throw conflict('QUOTE_USED', `Quote ${quoteId} already became lease ${quote.lease_id}; it cannot be released.`, `Stop the lease (refunding unused time) with \`iocli lease stop ${quote.lease_id}\`.`, { leaseId: quote.lease_id });
    const payment = await trx.selectFrom('payments').select(['signature', 'state']).where('reference', '=', quoteId).executeTakeFirst();
    if (payment) {
      throw conflict('QUOTE_PAID', `A payment for quote ${quoteId} was received (${payment.signature}, ${payment.state}); it cannot be released.`, 'The payment becomes a lease or is refunded; check `iocli leases`.', { signature: payment.signature });
    }
    const freed = await trx.updateTable('gpus').set({ held_by: null, held_until: null }).where('held_by', '=', quoteId).executeTakeFirst();
    return { quoteId, state: 'released' as const, releasedAt: iso(Number(quote.released_at))!, gpusFreed: Number(freed.numUpdatedRows) };
  });
}

function noCapacity(input: QuoteInput, explanation: PlacementExplanation): HttpError {
  const parts = explanation.excluded.map((e) => `${e.nodes} by ${e.filter}`).join(', ');
  const alt = explanation.bestAlternative;
  return new HttpError(
    409,
    'NO_CAPACITY',
    `No capacity for ${input.gpus} × ${input.model ?? 'GPU'}${input.multiNode ? '' : ' on one node'}: ${explanation.nodesConsidered} online node(s) considered${parts ? `; excluded ${parts}` : ''}.`,
    alt ? `Closest: node ${alt.nodeId} has ${alt.freeGpus} × ${alt.model} free at ${alt.pricePerGpuHour} per GPU-hour in ${alt.region}.` : 'No GPUs are free right now; try again later.',
    {
      requested: { gpus: input.gpus, model: input.model ?? null, maxPrice: input.maxPrice ?? null, region: input.region ?? null },
      nodesConsidered: explanation.nodesConsidered,
      excluded: explanation.excluded,
      bestAlternative: explanation.bestAlternative,
    },
  );
}

function toAllocation(a: PlacedAllocation): Allocation {
  return { nodeId: a.nodeId, gpuUuids: a.gpuUuids, pricePerGpuHour: a.pricePerGpuHour, region: a.region };
}

/** GPUs that this renter's unpaid, unexpired quotes hold right now. */
async function gpusHeldByRenter(db: Db, renter: string, now: number): Promise<number> {
  const row = await db
    .selectFrom('gpus')
    .select((eb) => eb.fn.countAll<number>().as('held'))
    .where('held_until', '>', now)
    .where('held_by', 'in', (eb) => eb.selectFrom('quotes').select('id').where('renter', '=', renter).where('lease_id', 'is', null).where('expires_at', '>', now - HOLD_GRACE_MS))
    .executeTakeFirst();
  return Number(row?.held ?? 0);
}
