// Reading leases for their renter: the ownership check and the API shape (allocations, refund signature).
import type { Allocation, Lease } from '../api/schemas/leases.js';
import { ACTIVE_LEASE_STATES } from '../domain/lease-states.js';
import { iso, type CoordinatorContext } from './context.js';
import { forbidden, notFound } from './http-error.js';
import { parseIsolation, parseRunAs, type LeasesTable } from './tables.js';

/** The lease row, after checking that `renter` owns it (404 for an unknown lease). */
export async function leaseRow(ctx: CoordinatorContext, renter: string, leaseId: string): Promise<LeasesTable> {
  const row = await ctx.db.selectFrom('leases').selectAll().where('id', '=', leaseId).executeTakeFirst();
  if (!row) throw notFound('Lease', leaseId);
  if (row.renter !== renter) throw forbidden(`Lease ${leaseId} belongs to another wallet.`);
  return row;
}

export async function getLease(ctx: CoordinatorContext, renter: string, leaseId: string): Promise<Lease> {
  const row = await leaseRow(ctx, renter, leaseId);
  return (await toLeases(ctx, [row]))[0]!;
}

export async function listLeases(ctx: CoordinatorContext, renter: string, all: boolean): Promise<Lease[]> {
  let q = ctx.db.selectFrom('leases').selectAll().where('renter', '=', renter);
  if (!all) q = q.where('state', 'in', [...ACTIVE_LEASE_STATES]);
  return toLeases(ctx, await q.orderBy('created_at', 'desc').limit(1000).execute());
}

async function toLeases(ctx: CoordinatorContext, rows: LeasesTable[]): Promise<Lease[]> {
  if (rows.length === 0) return [];
  const allocs = await ctx.db
    .selectFrom('lease_allocations as a')
    .innerJoin('nodes as n', 'n.id', 'a.node_id')
    .select(['a.lease_id', 'a.node_id', 'a.gpu_uuid', 'a.price_per_gpu_hour', 'n.region', 'n.public_host', 'n.isolation'])
    .where('a.lease_id', 'in', rows.map((r) => r.id))
    .orderBy('a.lease_id')
    .orderBy('a.gpu_uuid')
    .execute();
  const refundRows = await ctx.db
    .selectFrom('claims')
    .select(['lease_id', 'signature'])
    .where('kind', '=', 'refund')
    // Refunds of frozen minutes are their own payouts; refundSignature names the refund of the unused time.
    .where('id', 'not like', 'frozen%')
    .where('lease_id', 'in', rows.map((r) => r.id))
    .orderBy('created_at')
    .execute();
  const refunds = new Map(refundRows.map((r) => [r.lease_id!, r.signature]));
  const byLease = new Map<string, Map<string, Allocation>>();
  for (const a of allocs) {
    const nodes = byLease.get(a.lease_id) ?? new Map<string, Allocation>();
    byLease.set(a.lease_id, nodes);
    const entry = nodes.get(a.node_id) ?? { nodeId: a.node_id, gpuUuids: [], pricePerGpuHour: Number(a.price_per_gpu_hour), region: a.region, publicHost: a.public_host, isolation: parseIsolation(a.isolation) };
    entry.gpuUuids.push(a.gpu_uuid);
    nodes.set(a.node_id, entry);
  }
  return rows.map((r) => ({
    id: r.id,
    renter: r.renter,
    quoteId: r.quote_id,
    state: r.state as Lease['state'],
    gpus: Number(r.gpus),
    model: r.model,
    hours: Number(r.hours),
    pricePerGpuHour: Number(r.price_per_gpu_hour),
    perHour: Number(r.per_hour),
    totalPaid: Number(r.total_paid),
    refund: Number(r.refund),
    image: r.image,
    ...(r.command ? { command: JSON.parse(r.command) as string[] } : {}),
    env: JSON.parse(r.env) as Record<string, string>,
    ports: JSON.parse(r.ports) as number[],
    readOnlyRoot: Number(r.read_only_root) === 1,
    user: r.run_as ? parseRunAs(r.run_as) : null,
    egress: Number(r.egress) !== 0,
    allocations: [...(byLease.get(r.id)?.values() ?? [])],
    paymentSignature: r.payment_signature,
    refundSignature: refunds.get(r.id) ?? null,
    frozenMinutes: Number(r.frozen_minutes ?? 0),
    frozenRefund: Number(r.frozen_refund ?? 0),
    failureReason: r.failure_reason,
    createdAt: iso(Number(r.created_at))!,
    startedAt: iso(r.started_at === null ? null : Number(r.started_at)),
    endsAt: iso(Number(r.ends_at))!,
    stoppedAt: iso(r.stopped_at === null ? null : Number(r.stopped_at)),
    exitCode: r.exit_code === null || r.exit_code === undefined ? null : Number(r.exit_code),
  }));
}
