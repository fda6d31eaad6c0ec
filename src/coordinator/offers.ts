// Offers (free GPUs grouped per node) and the placement search: SQL narrows the candidates, the pure placement decides.
import { sql } from 'kysely';
import type { Offer } from '../api/schemas/leases.js';
import { placeLease, type PlacementNode, type PlacementRequest, type PlacementResult } from '../domain/placement.js';
import type { CoordinatorContext } from './context.js';
import { notHeldByOthers, type Db } from './db.js';
import { parseIsolation } from './tables.js';

export interface OffersQuery {
  model?: string;
  minVram?: number;
  gpus?: number;
  maxPrice?: number;
  region?: string;
  sort: 'price' | 'reliability';
  limit: number;
}

/**
 * Who may be offered: on a non-dev coordinator only the bonded GPUs of nodes whose coordinator challenge passed and has
 * not aged out; a --dev coordinator offers the rest too, labelled (unverified / simulated). Undefined: no filter.
 */
export interface PlacementTrust {
  verifiedAfter: number;
}

export function placementTrust(ctx: CoordinatorContext): PlacementTrust | undefined {
  return ctx.options.dev ? undefined : { verifiedAfter: ctx.options.now() };
}

export async function listOffers(ctx: CoordinatorContext, query: OffersQuery): Promise<Offer[]> {
  const now = ctx.options.now();
  let q = ctx.db
    .selectFrom('gpus as g')
    .innerJoin('nodes as n', 'n.id', 'g.node_id')
    .select((eb) => ['n.id', 'g.model', 'n.price_per_gpu_hour', 'n.region', 'n.reliability', 'n.verified', 'n.verified_until', 'n.simulated', 'n.total_gpus', 'n.isolation', eb.fn.min('g.vram_mb').as('vram'), eb.fn.countAll<number>().as('free')])
    .where('n.status', '=', 'online')
    .where('n.draining', '=', 0)
    .where('g.lease_id', 'is', null)
    // GPUs a live quote holds are not on offer.
    .where((eb) => eb.or([eb('g.held_until', 'is', null), eb('g.held_until', '<=', ctx.options.now())]));
  const trust = placementTrust(ctx);
  // Only bonded GPUs of verified nodes.
  if (trust) q = q.where('n.verified', '=', 1).where('n.verified_until', '>', trust.verifiedAfter).where('g.bonded', '=', 1);
  if (query.model) q = q.where(sql<string>`lower(g.model)`, 'like', `%${query.model.toLowerCase()}%`);
  if (query.minVram !== undefined) q = q.where('g.vram_mb', '>=', query.minVram);
  if (query.maxPrice !== undefined) q = q.where('n.price_per_gpu_hour', '<=', query.maxPrice);
  if (query.region) q = q.where(sql<string>`lower(n.region)`, '=', query.region.toLowerCase());
  let grouped = q.groupBy(['n.id', 'g.model', 'n.price_per_gpu_hour', 'n.region', 'n.reliability', 'n.verified', 'n.verified_until', 'n.simulated', 'n.total_gpus', 'n.isolation']);
  if (query.gpus !== undefined) grouped = grouped.having((eb) => eb.fn.countAll(), '>=', query.gpus);
  const ordered =
    query.sort === 'reliability'
      ? grouped.orderBy('n.reliability', 'desc').orderBy('n.price_per_gpu_hour', 'asc')
      : grouped.orderBy('n.price_per_gpu_hour', 'asc').orderBy('n.reliability', 'desc');
  const rows = await ordered.orderBy('n.id').limit(query.limit).execute();
  return rows.map((r) => {
    const passed = Number(r.verified) === 1 && r.verified_until !== null && Number(r.verified_until) > now;
    const verified = passed && !r.simulated;
    return {
      nodeId: r.id,
      model: r.model,
      vramMb: Number(r.vram),
      freeGpus: Number(r.free),
      totalGpus: Number(r.total_gpus),
      pricePerGpuHour: Number(r.price_per_gpu_hour),
      region: r.region,
      reliability: Math.round(Number(r.reliability) * 1000) / 1000,
      verified,
      simulated: Boolean(r.simulated),
      verification: r.simulated ? ('simulated' as const) : verified ? ('verified' as const) : ('unverified' as const),
      challenge: passed ? (r.simulated ? ('cpu-stand-in' as const) : ('gpu' as const)) : null,
      isolation: parseIsolation(r.isolation),
    };
  });
}

/**
 * Find a placement through the store: SQL narrows to the cheapest nodes with enough free GPUs (indexed), the pure
 * placement decides. Falls back to a full scan only to explain a failure. With `holds`, GPUs other quotes hold are not free.
 */
export async function findPlacement(db: Db, request: PlacementRequest, exclude: ReadonlySet<string> = new Set(), holds?: { holder: string | null; now: number }, trust?: PlacementTrust): Promise<PlacementResult> {
  const batch = 64;
  for (let page = 0; page < 8; page++) {
    const nodes = await candidateNodes(db, request, request.gpus, batch, page * batch, exclude, holds, false, trust);
    if (nodes.length === 0) break;
    const result = placeLease(nodes, { ...request, multiNode: false });
    if (result.ok) return result;
    if (nodes.length < batch) break;
  }
  if (request.multiNode) {
    const pool: PlacementNode[] = [];
    let free = 0;
    for (let page = 0; page < 64 && free < request.gpus; page++) {
      const nodes = await candidateNodes(db, request, 1, 256, page * 256, exclude, holds, false, trust);
      pool.push(...nodes);
      free += nodes.reduce((n, node) => n + node.freeGpus.length, 0);
      if (nodes.length < 256) break;
    }
    const result = placeLease(pool, request);
    if (result.ok) return result;
  }
  // Nothing fits: explain over every online node (slow path, only on failure).
  const all = await candidateNodes(db, { gpus: 0 }, 0, 1_000_000, 0, exclude, holds, true, trust);
  return placeLease(all, request);
}

async function candidateNodes(
  db: Db,
  request: PlacementRequest,
  minFree: number,
  limit: number,
  offset: number,
  exclude: ReadonlySet<string>,
  holds: { holder: string | null; now: number } | undefined,
  includeFull = false,
  trust?: PlacementTrust,
): Promise<PlacementNode[]> {
  let q = db.selectFrom('nodes').select(['id', 'region', 'price_per_gpu_hour', 'reliability', 'verified']).where('status', '=', 'online').where('draining', '=', 0);
  if (trust) q = q.where('verified', '=', 1).where('verified_until', '>', trust.verifiedAfter);
  if (!includeFull) q = q.where('free_gpus', '>=', minFree);
  if (request.maxPrice !== undefined) q = q.where('price_per_gpu_hour', '<=', request.maxPrice);
  if (request.region) q = q.where(sql<string>`lower(region)`, '=', request.region.toLowerCase());
  if (request.model) q = q.where('models', 'like', `%${request.model.toLowerCase()}%`);
  if (request.minVram) q = q.where('max_vram_mb', '>=', request.minVram);
  const nodes = await q.orderBy('price_per_gpu_hour').orderBy('reliability', 'desc').orderBy('free_gpus').orderBy('id').limit(limit).offset(offset).execute();
  if (nodes.length === 0) return [];
  const byNode = new Map<string, PlacementNode>();
  for (const n of nodes) {
    byNode.set(n.id, { id: n.id, region: n.region, pricePerGpuHour: Number(n.price_per_gpu_hour), reliability: Number(n.reliability), verified: Boolean(n.verified), freeGpus: [] });
  }
  const ids = [...byNode.keys()];
  for (let i = 0; i < ids.length; i += 500) {
    let q = db.selectFrom('gpus').select(['id', 'node_id', 'uuid', 'idx', 'model', 'vram_mb']).where('node_id', 'in', ids.slice(i, i + 500)).where('lease_id', 'is', null);
    if (holds) q = q.where(notHeldByOthers(holds));
    if (trust) q = q.where('bonded', '=', 1);
    const gpus = await q.execute();
    for (const g of gpus) {
      if (exclude.has(g.id)) continue;
      byNode.get(g.node_id)!.freeGpus.push({ id: g.id, uuid: g.uuid, index: g.idx, model: g.model, vramMb: g.vram_mb });
    }
  }
  return [...byNode.values()];
}
