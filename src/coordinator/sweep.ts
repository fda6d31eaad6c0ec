// The periodic sweep every replica runs: nodes gone silent, leases past their end, metering, expired nonces and sessions.
import { ACTIVE_LEASE_STATES } from '../domain/lease-states.js';
import type { CoordinatorContext } from './context.js';
import { returnDueBonds } from './bonds.js';
import { sweepChallenges } from './challenges.js';
import { sweepProbes } from './evidence.js';
import { endLease } from './leases.js';
import { meterRunning } from './metering.js';

/** Offline detection, lease expiry, periodic metering and clean-up. Safe to run on several replicas. */
export async function sweep(ctx: CoordinatorContext, options: { meter?: boolean } = {}): Promise<{ offline: string[]; failed: string[]; completed: string[] }> {
  await ctx.heartbeats.flush();
  const now = ctx.options.now();
  const deadline = now - ctx.options.heartbeatGraceMs;
  const stale = await ctx.db.selectFrom('nodes').select(['id', 'last_heartbeat_at']).where('status', '=', 'online').where('last_heartbeat_at', '<', deadline).execute();
  const offline: string[] = [];
  const failed: string[] = [];
  for (const node of stale) {
    const updated = await ctx.db.updateTable('nodes').set({ status: 'offline' }).where('id', '=', node.id).where('status', '=', 'online').where('last_heartbeat_at', '<', deadline).executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) continue;
    offline.push(node.id);
    const cached = ctx.nodeCache.get(node.id);
    if (cached) cached.status = 'offline';
    const leases = await ctx.db
      .selectFrom('lease_allocations as a')
      .innerJoin('leases as l', 'l.id', 'a.lease_id')
      .select('l.id')
      .distinct()
      .where('a.node_id', '=', node.id)
      .where('a.active', '=', 1)
      .where('l.state', 'in', [...ACTIVE_LEASE_STATES])
      .execute();
    for (const lease of leases) {
      const endedAt = Math.max(Number(node.last_heartbeat_at ?? now), 0);
      if (await endLease(ctx, lease.id, 'failed', endedAt, { reason: `Node ${node.id} went offline (no heartbeat for ${Math.round(ctx.options.heartbeatGraceMs / 1000)} s).`, nodeFault: true })) failed.push(lease.id);
    }
  }
  const due = await ctx.db.selectFrom('leases').select('id').where('state', 'in', [...ACTIVE_LEASE_STATES]).where('ends_at', '<=', now).execute();
  const completed: string[] = [];
  for (const lease of due) if (await endLease(ctx, lease.id, 'completed', now, { reason: null, nodeFault: false })) completed.push(lease.id);
  if (options.meter) await meterRunning(ctx, now);
  await sweepChallenges(ctx, now);
  await returnDueBonds(ctx, now);
  await sweepProbes(ctx, now);
  await ctx.db.deleteFrom('nonces').where('expires_at', '<', now).execute();
  await ctx.db.deleteFrom('node_sessions').where('expires_at', '<', now).execute();
  return { offline, failed, completed };
}
