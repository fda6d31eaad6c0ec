// The lease lifecycle: create from a paid quote, extend, stop, mark running, end (metering, refund, freeing GPUs).
import { sql } from 'kysely';
import type { Lease, QuoteInput } from '../api/schemas/leases.js';
import type { PlacedAllocation, PlacementRequest } from '../domain/placement.js';
import { HOUR_MS, refundFor } from '../domain/pricing.js';
import { isActiveLeaseState } from '../domain/lease-states.js';
import { isUniqueViolation, newId, type CoordinatorContext } from './context.js';
import type { Db } from './db.js';
import { conflict, forbidden, HttpError, notFound } from './http-error.js';
import { getLease, leaseRow } from './lease-views.js';
import { accrue } from './metering.js';
import { refundFrozenTail } from './evidence.js';
import { slashForNodeFault } from './bonds.js';
import { cancelRandomChallenges } from './challenges.js';
import { recountFreeGpus } from './nodes.js';
import { findPlacement, placementTrust } from './offers.js';
import { queueRefund, quoteReleased, takePayment } from './payments.js';
import type { NodesTable } from './tables.js';
import { MAX_LEASE_HOURS } from '../domain/pricing.js';
import { workloadProblems } from '../domain/workload.js';

export async function createLease(ctx: CoordinatorContext, renter: string, input: { quoteId: string; payment?: { transaction: string } }): Promise<Lease> {
  const now = ctx.options.now();
  const quote = await ctx.db.selectFrom('quotes').selectAll().where('id', '=', input.quoteId).executeTakeFirst();
  if (!quote) throw notFound('Quote', input.quoteId);
  if (quote.renter !== renter) throw forbidden(`Quote ${input.quoteId} was issued to another wallet.`);
  if (quote.lease_id) throw conflict('QUOTE_USED', `Quote ${input.quoteId} was already used for lease ${quote.lease_id}.`, 'Request a new quote.');
  if (quote.released_at != null) throw quoteReleased(input.quoteId);
  if (Number(quote.expires_at) < now) throw new HttpError(410, 'QUOTE_EXPIRED', `Quote ${input.quoteId} expired.`, 'Request a new quote (quotes last a few minutes).');

  const request = JSON.parse(quote.request) as QuoteInput;
  // Quotes stored before the workload rules existed are checked again: nothing the node would refuse is ever paid for.
  const problems = workloadProblems(request);
  if (problems.length > 0) throw new HttpError(422, 'WORKLOAD_INVALID', `Quote ${input.quoteId} asks for a workload no node can run: ${problems.map((p) => p.message).join(' ')}`, 'Request a new quote with a valid image, command and environment.');

  const paymentSignature = await takePayment(ctx, renter, Number(quote.total), quote.id, input.payment, { quoteId: quote.id });
  const leaseId = newId('lease');
  const quoted = JSON.parse(quote.allocations) as PlacedAllocation[];
  let touched: string[] = [];
  let refundPayout: string | null = null;
  try {
    touched = await ctx.engine.writeTransaction(async (trx) => {
      refundPayout = null;
      // Not if released meanwhile (an unpaid dev-mode lease reserves no payment that a release would have to wait for).
      const claimed = await trx.updateTable('quotes').set({ lease_id: leaseId }).where('id', '=', quote.id).where('lease_id', 'is', null).where('released_at', 'is', null).executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) {
        const current = await trx.selectFrom('quotes').select(['lease_id']).where('id', '=', quote.id).executeTakeFirst();
        if (!current?.lease_id) throw quoteReleased(input.quoteId);
        throw conflict('QUOTE_USED', `Quote ${input.quoteId} was already used.`, 'Request a new quote.');
      }
      const hours = Number(quote.hours);
      await trx
        .insertInto('leases')
        .values({
          id: leaseId,
          renter,
          quote_id: quote.id,
          state: 'paid',
          gpus: Number(quote.gpus),
          model: quote.model,
          hours,
          price_per_gpu_hour: Number(quote.price_per_gpu_hour),
          per_hour: Number(quote.per_hour),
          total_paid: Number(quote.total),
          refund: 0,
          image: request.image,
          command: request.command ? JSON.stringify(request.command) : null,
          env: JSON.stringify(request.env ?? {}),
          ports: JSON.stringify(request.ports ?? []),
          // Quotes stored before the field existed carry none: writable, as those renters got.
          read_only_root: request.readOnlyRoot === true ? 1 : 0,
          run_as: request.user ? `${request.user.uid}:${request.user.gid}` : null,
          egress: request.egress === false ? 0 : 1,
          payment_signature: paymentSignature,
          failure_reason: null,
          created_at: now,
          starts_at: now,
          started_at: null,
          ends_at: now + hours * HOUR_MS,
          stopped_at: null,
          accrued_minutes: 0,
        })
        .execute();
      await trx.insertInto('ledger').values({ kind: 'payment', account: renter, amount: Number(quote.total), lease_id: leaseId, claim_id: paymentSignature, created_at: now }).execute();
      if (paymentSignature) await trx.updateTable('payments').set({ state: 'used' }).where('signature', '=', paymentSignature).execute();
      const allocations = await allocate(ctx, trx, quote.id, request, quoted, now);
      // The quote's holds end with it: the GPUs are leased now, or free for others.
      await trx.updateTable('gpus').set({ held_by: null, held_until: null }).where('held_by', '=', quote.id).execute();
      if (!allocations) {
        await trx.updateTable('leases').set({ state: 'failed', failure_reason: 'The quoted capacity was taken before payment completed.', refund: Number(quote.total), stopped_at: now }).where('id', '=', leaseId).execute();
        await trx.insertInto('ledger').values({ kind: 'refund', account: renter, amount: Number(quote.total), lease_id: leaseId, claim_id: null, created_at: now }).execute();
        refundPayout = await queueRefund(ctx, trx, { id: leaseId, renter, payment_signature: paymentSignature }, Number(quote.total));
        return [];
      }
      for (const a of allocations) {
        await trx.updateTable('gpus').set({ lease_id: leaseId }).where('id', 'in', a.gpuIds).execute();
        await trx
          .insertInto('lease_allocations')
          .values(a.gpuIds.map((gpuId, i) => ({ lease_id: leaseId, node_id: a.nodeId, gpu_id: gpuId, gpu_uuid: a.gpuUuids[i]!, price_per_gpu_hour: a.pricePerGpuHour, active: 1 })))
          .execute();
      }
      const nodeIds = allocations.map((a) => a.nodeId);
      await recountFreeGpus(ctx.engine, trx, nodeIds);
      // Random challenges never run on leased GPUs (the node rows are locked by the recount).
      await cancelRandomChallenges(ctx, trx, nodeIds, leaseId);
      await trx.updateTable('leases').set({ state: 'scheduled' }).where('id', '=', leaseId).execute();
      return nodeIds;
    });
  } catch (error) {
    if (isUniqueViolation(error) && paymentSignature && String((error as Error).message).includes('payment_signature')) {
      throw conflict('PAYMENT_REUSED', 'This payment transaction already paid for another lease.', 'Sign a new payment for this quote.');
    }
    throw error;
  }
  ctx.assignments.invalidate(touched);
  if (refundPayout) await ctx.payouts!.settle(refundPayout);
  return getLease(ctx, renter, leaseId);
}

/**
 * Allocate inside a write transaction: the quoted GPUs (held for this quote) if still free, otherwise a fresh placement at
 * no higher price among GPUs no other live quote holds.
 */
async function allocate(ctx: CoordinatorContext, trx: Db, quoteId: string, request: QuoteInput, quoted: PlacedAllocation[], now: number): Promise<PlacedAllocation[] | null> {
  const holds = { holder: quoteId, now };
  const quotedIds = quoted.flatMap((a) => a.gpuIds);
  const free = await ctx.engine.lockFreeGpus(trx, quotedIds, holds);
  if (quotedIds.every((id) => free.has(id))) return quoted;
  const maxPrice = Math.max(...quoted.map((a) => a.pricePerGpuHour));
  const taken = new Set<string>(quotedIds.filter((id) => !free.has(id)));
  const placementRequest: PlacementRequest = { ...request, maxPrice: Math.min(request.maxPrice ?? maxPrice, maxPrice), spreadSalt: quoteId };
  for (let attempt = 0; attempt < 8; attempt++) {
    const result = await findPlacement(trx, placementRequest, taken, holds, placementTrust(ctx));
    if (!result.ok) return null;
    const ids = result.allocations.flatMap((a) => a.gpuIds);
    const locked = await ctx.engine.lockFreeGpus(trx, ids, holds);
    if (ids.every((id) => locked.has(id))) return result.allocations;
    for (const id of ids) if (!locked.has(id)) taken.add(id);
  }
  return null;
}

export async function markRunning(ctx: CoordinatorContext, leaseId: string, now: number): Promise<void> {
  await ctx.db.updateTable('leases').set({ state: 'running', started_at: now }).where('id', '=', leaseId).where('state', 'in', ['paid', 'scheduled']).execute();
}

export async function extendLease(ctx: CoordinatorContext, renter: string, leaseId: string, input: { hours: number; payment?: { transaction: string } }): Promise<Lease> {
  const row = await leaseRow(ctx, renter, leaseId);
  if (!isActiveLeaseState(row.state)) throw conflict('LEASE_ENDED', `Lease ${leaseId} has ended (${row.state}) and cannot be extended.`, 'Rent again with `iocli rent`.');
  if (Number(row.hours) + input.hours > MAX_LEASE_HOURS) throw new HttpError(400, 'BAD_REQUEST', `A lease may last at most ${MAX_LEASE_HOURS} hours in total.`);
  const amount = Number(row.per_hour) * input.hours;
  const signature = await takePayment(ctx, renter, amount, `extend:${leaseId}:${Number(row.hours) + input.hours}`, input.payment);
  const now = ctx.options.now();
  await ctx.engine.writeTransaction(async (trx) => {
    await ctx.engine.lockLease(trx, leaseId);
    const current = await trx.selectFrom('leases').select(['state', 'ends_at', 'hours', 'total_paid']).where('id', '=', leaseId).executeTakeFirstOrThrow();
    if (!isActiveLeaseState(current.state)) throw conflict('LEASE_ENDED', `Lease ${leaseId} has ended (${current.state}).`);
    await trx
      .updateTable('leases')
      .set({ hours: Number(current.hours) + input.hours, ends_at: Number(current.ends_at) + input.hours * HOUR_MS, total_paid: Number(current.total_paid) + amount })
      .where('id', '=', leaseId)
      .execute();
    await trx.insertInto('ledger').values({ kind: 'payment', account: renter, amount, lease_id: leaseId, claim_id: signature, created_at: now }).execute();
    if (signature) await trx.updateTable('payments').set({ state: 'used' }).where('signature', '=', signature).execute();
  });
  ctx.assignments.invalidate(await leaseNodes(ctx, leaseId));
  return getLease(ctx, renter, leaseId);
}

/** Stop early; a paid lease's refund is sent on chain and confirmed before this returns (the retry pass covers failures). */
export async function stopLease(ctx: CoordinatorContext, renter: string, leaseId: string): Promise<{ lease: Lease; refund: number; refundSignature: string | null }> {
  const row = await leaseRow(ctx, renter, leaseId);
  if (!isActiveLeaseState(row.state)) throw conflict('LEASE_ENDED', `Lease ${leaseId} has already ended (${row.state}).`);
  const ended = await endLease(ctx, leaseId, 'stopped', ctx.options.now(), { reason: null, nodeFault: false }, { settle: 'now' });
  if (ended && ended.refundPayout) await ctx.payouts!.settle(ended.refundPayout).catch((error) => ctx.options.onError?.(error, `refund ${ended.refundPayout}`));
  const lease = await getLease(ctx, renter, leaseId);
  return { lease, refund: lease.refund, refundSignature: lease.refundSignature ?? null };
}

async function leaseNodes(ctx: CoordinatorContext, leaseId: string): Promise<string[]> {
  const rows = await ctx.db.selectFrom('lease_allocations').select('node_id').distinct().where('lease_id', '=', leaseId).execute();
  return rows.map((r) => r.node_id);
}

/**
 * End an active lease: meter the running time it has left, refund the unused share, free its GPUs, update node reliability.
 * Idempotent: a lease that already ended is left alone.
 */
export async function endLease(
  ctx: CoordinatorContext,
  leaseId: string,
  state: 'completed' | 'stopped' | 'failed',
  endedAt: number,
  options: { reason: string | null; nodeFault: boolean; exitCode?: number | null },
  { settle = 'later' }: { settle?: 'now' | 'later' } = {},
): Promise<false | { refundPayout: string | null }> {
  let refundPayout: string | null = null;
  let slashPayout: string | null = null;
  let frozenPayout: string | null = null;
  const nodeIds = await ctx.engine.writeTransaction(async (trx) => {
    refundPayout = null;
    slashPayout = null;
    frozenPayout = null;
    await ctx.engine.lockLease(trx, leaseId);
    const lease = await trx.selectFrom('leases').selectAll().where('id', '=', leaseId).executeTakeFirst();
    if (!lease || !isActiveLeaseState(lease.state)) return null;
    const end = Math.min(endedAt, Number(lease.ends_at));
    // A lease that ends while confirmed running (stopped by its renter, or its workload finished) pays the provider for
    // the started minute too, as the renter is billed for it; a node fault pays only whole confirmed minutes.
    const counted = lease.state === 'running' && !options.nodeFault ? 'started' : 'whole';
    await accrue(ctx, trx, lease, end, counted);
    // Minutes since a failed probe earned the provider nothing: they go back to the renter.
    frozenPayout = await refundFrozenTail(ctx, trx, leaseId, end, counted, ctx.options.now());
    const refund = refundFor({ totalPaid: Number(lease.total_paid), startsAt: Number(lease.starts_at), endsAt: Number(lease.ends_at) }, end);
    await trx.updateTable('leases').set({ state, stopped_at: endedAt, refund, failure_reason: options.reason, exit_code: options.exitCode ?? null }).where('id', '=', leaseId).execute();
    if (refund > 0) await trx.insertInto('ledger').values({ kind: 'refund', account: lease.renter, amount: refund, lease_id: leaseId, claim_id: null, created_at: endedAt }).execute();
    refundPayout = await queueRefund(ctx, trx, lease, refund);
    const nodes = (await trx.selectFrom('lease_allocations').select('node_id').distinct().where('lease_id', '=', leaseId).execute()).map((r) => r.node_id);
    if (options.nodeFault) slashPayout = await slashForNodeFault(ctx, trx, lease);
    await trx.updateTable('gpus').set({ lease_id: null }).where('lease_id', '=', leaseId).execute();
    await trx.updateTable('lease_allocations').set({ active: 0 }).where('lease_id', '=', leaseId).execute();
    await recountFreeGpus(ctx.engine, trx, nodes);
    if (nodes.length > 0 && (state === 'completed' || options.nodeFault)) {
      const column = state === 'completed' ? 'leases_completed' : 'leases_failed';
      await trx
        .updateTable('nodes')
        .set({ [column]: sql`${sql.ref(column)} + 1`, reliability: state === 'completed' ? sql`(leases_completed + 2.0) / (leases_completed + leases_failed + 3)` : sql`(leases_completed + 1.0) / (leases_completed + leases_failed + 3)` } as unknown as Partial<NodesTable>)
        .where('id', 'in', nodes)
        .execute();
    }
    return nodes;
  });
  if (!nodeIds) return false;
  ctx.assignments.invalidate(nodeIds);
  // (TypeScript cannot see the assignment inside the callback.)
  const payout = refundPayout as string | null;
  if (payout && settle === 'later') ctx.payouts!.settleLater(payout);
  const slash = slashPayout as string | null;
  if (slash) ctx.payouts!.settleLater(slash);
  const frozen = frozenPayout as string | null;
  if (frozen) ctx.payouts!.settleLater(frozen);
  return { refundPayout: payout };
}
