// Metering: confirmed running time turned into ledger rows, when a lease ends and periodically while it runs.
import { accrueMinutes, startedMinutes, wholeMinutes } from '../domain/pricing.js';
import type { CoordinatorContext } from './context.js';
import type { Db } from './db.js';
import type { LeasesTable } from './tables.js';

/** Write ledger rows for confirmed running minutes up to `upTo` (accrual to each node owner, fee to the treasury). */
export async function accrue(ctx: CoordinatorContext, trx: Db, lease: LeasesTable, upTo: number, minutesCounted: 'whole' | 'started' = 'whole'): Promise<void> {
  if (lease.started_at === null) return;
  // Paid time needs evidence: after a failed liveness probe nothing accrues until a later probe passes (whole minutes
  // up to the probe; the started minute is not proven).
  if (lease.unproven_from != null && upTo > Number(lease.unproven_from)) {
    upTo = Number(lease.unproven_from);
    minutesCounted = 'whole';
  }
  const countMinutes = minutesCounted === 'started' ? startedMinutes : wholeMinutes;
  const minutes = countMinutes(Number(lease.started_at), Math.min(upTo, Number(lease.ends_at)));
  const already = Number(lease.accrued_minutes);
  if (minutes <= already) return;
  const perNode = await trx
    .selectFrom('lease_allocations as a')
    .innerJoin('nodes as n', 'n.id', 'a.node_id')
    .select(['n.owner', 'a.price_per_gpu_hour', (eb) => eb.fn.countAll<number>().as('gpus')])
    .where('a.lease_id', '=', lease.id)
    .groupBy(['n.owner', 'a.node_id', 'a.price_per_gpu_hour'])
    .execute();
  const now = ctx.options.now();
  for (const node of perNode) {
    const accrual = accrueMinutes(Number(node.price_per_gpu_hour) * Number(node.gpus), already, minutes, ctx.options.feeBps);
    if (accrual.net > 0) await trx.insertInto('ledger').values({ kind: 'accrual', account: node.owner, amount: accrual.net, lease_id: lease.id, claim_id: null, created_at: now }).execute();
    if (accrual.fee > 0) await trx.insertInto('ledger').values({ kind: 'fee', account: ctx.options.treasuryAccount, amount: accrual.fee, lease_id: lease.id, claim_id: null, created_at: now }).execute();
  }
  await trx.updateTable('leases').set({ accrued_minutes: minutes }).where('id', '=', lease.id).execute();
}

/** Periodic accrual for running leases, bounded by each node's last confirmed heartbeat. */
export async function meterRunning(ctx: CoordinatorContext, now: number): Promise<void> {
  const running = await ctx.db
    .selectFrom('leases as l')
    .innerJoin('lease_allocations as a', 'a.lease_id', 'l.id')
    .innerJoin('nodes as n', 'n.id', 'a.node_id')
    .select(['l.id', (eb) => eb.fn.min('n.last_heartbeat_at').as('confirmed')])
    .where('l.state', '=', 'running')
    .groupBy('l.id')
    .execute();
  for (const r of running) {
    const upTo = Math.min(now, Number(r.confirmed ?? 0));
    await ctx.engine.writeTransaction(async (trx) => {
      await ctx.engine.lockLease(trx, r.id);
      const lease = await trx.selectFrom('leases').selectAll().where('id', '=', r.id).executeTakeFirst();
      if (lease && lease.state === 'running') await accrue(ctx, trx, lease, upTo);
    });
  }
}
