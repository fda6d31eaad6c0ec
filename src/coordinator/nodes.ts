// Node registration, the owner's view of a node, ownership checks and the free-GPU count placement filters on.
import { sql } from 'kysely';
import type { Node, NodeDetail, RegisterNodeInput, Verification } from '../api/schemas/nodes.js';
import { ACTIVE_LEASE_STATES } from '../domain/lease-states.js';
import { iso, newId, type CachedNode, type CoordinatorContext } from './context.js';
import type { Db, Engine } from './db.js';
import { issueChallenge } from './challenges.js';
import { forbidden, HttpError, notFound } from './http-error.js';

const reliabilityOf = (completed: number, failed: number) => (completed + 1) / (completed + failed + 2);

export async function registerNode(ctx: CoordinatorContext, owner: string, input: RegisterNodeInput): Promise<Node> {
  if (input.simulated && !ctx.options.dev) {
    throw new HttpError(403, 'SIMULATED_REFUSED', 'Simulated GPUs are only accepted by a coordinator running in development mode (--dev).', 'Use real GPUs, or run against a local network (`iocli network up`).');
  }
  const verification = input.verification ? checkVerification(ctx, input.verification, input.simulated) : undefined;
  const uuids = new Set(input.gpus.map((g) => g.uuid));
  if (uuids.size !== input.gpus.length) throw new HttpError(400, 'BAD_REQUEST', 'GPU uuids must be unique within a node.');
  const now = ctx.options.now();
  const specs = JSON.stringify({ cpu: input.cpu, memoryMb: input.memoryMb, diskGb: input.diskGb, driverVersion: input.driverVersion, cudaVersion: input.cudaVersion, dockerVersion: input.dockerVersion, gpus: input.gpus });
  const models = [...new Set(input.gpus.map((g) => g.model.toLowerCase()))].join('|');
  const maxVram = Math.max(...input.gpus.map((g) => g.vramMb));
  let challengeReason: string | null = null;
  const nodeId = await ctx.engine.writeTransaction(async (trx) => {
    const existing = await trx.selectFrom('nodes').select(['id', 'verified', 'verified_until', 'simulated']).where('owner', '=', owner).where('machine_id', '=', input.machineId).executeTakeFirst();
    const id = existing?.id ?? newId('node');
    const row = {
      specs,
      region: input.region,
      price_per_gpu_hour: input.pricePerGpuHour,
      simulated: input.simulated ? 1 : 0,
      models,
      max_vram_mb: maxVram,
      total_gpus: input.gpus.length,
      status: 'online',
      draining: 0,
      public_host: input.publicHost ?? null,
      isolation: input.isolation ? JSON.stringify(input.isolation) : null,
      // Kept for display only: `verified` comes from coordinator challenges alone (src/coordinator/challenges.ts).
      ...(verification ? { verification: verification.json } : {}),
      last_heartbeat_at: now,
      updated_at: now,
    };
    if (existing) await trx.updateTable('nodes').set(row).where('id', '=', id).execute();
    else await trx.insertInto('nodes').values({ verified: 0, verification: null, verified_until: null, next_challenge_at: null, ...row, id, owner, machine_id: input.machineId, free_gpus: 0, reliability: reliabilityOf(0, 0), leases_completed: 0, leases_failed: 0, telemetry: null, created_at: now }).execute();
    const current = await trx.selectFrom('gpus').select(['id', 'uuid', 'model', 'lease_id']).where('node_id', '=', id).execute();
    // A new node, a GPU count or model change, or no current pass: challenge it now (a change also drops the old pass).
    const before = current.map((g) => `${g.uuid}|${g.model}`).sort().join(',');
    const after = input.gpus.map((g) => `${g.uuid}|${g.model}`).sort().join(',');
    const changed = existing !== undefined && (before !== after || Boolean(existing.simulated) !== input.simulated);
    if (changed) await trx.updateTable('nodes').set({ verified: 0, verified_until: null }).where('id', '=', id).execute();
    const passing = existing !== undefined && !changed && Number(existing.verified) === 1 && Number(existing.verified_until ?? 0) > now;
    challengeReason = !existing ? 'registration' : changed ? 'gpus-changed' : passing ? null : 'registration';
    // GPUs that disappeared are dropped unless a lease holds them (the lease ends through the normal path).
    const gone = current.filter((g) => !uuids.has(g.uuid) && g.lease_id === null).map((g) => g.id);
    if (gone.length > 0) await trx.deleteFrom('gpus').where('id', 'in', gone).execute();
    for (const gpu of input.gpus) {
      await trx
        .insertInto('gpus')
        .values({ id: `${id}/${gpu.uuid}`, node_id: id, idx: gpu.index, uuid: gpu.uuid, model: gpu.model, vram_mb: gpu.vramMb, lease_id: null })
        .onConflict((oc) => oc.column('id').doUpdateSet({ idx: gpu.index, model: gpu.model, vram_mb: gpu.vramMb }))
        .execute();
    }
    await recountFreeGpus(ctx.engine, trx, [id]);
    return id;
  });
  // The cache is re-read on next use: the stored verification may predate this registration.
  ctx.nodeCache.delete(nodeId);
  ctx.assignments.invalidate([nodeId]);
  if (challengeReason) await issueChallenge(ctx, nodeId, challengeReason);
  return getNode(ctx, nodeId);
}

/**
 * Which self-reported benchmarks this coordinator stores (for display). None of them makes a node verified: only a
 * coordinator challenge does.
 */
function checkVerification(ctx: CoordinatorContext, verification: Verification, _simulated: boolean): { json: string } {
  if (verification.kind === 'simulated' && !ctx.options.dev) {
    throw new HttpError(403, 'SIMULATED_REFUSED', 'A simulated GPU verification is only accepted by a coordinator running in development mode (--dev).', 'Run the GPU benchmark on real GPUs (iocli provide without --no-verify).');
  }
  return { json: JSON.stringify(verification) };
}

export async function recordVerification(ctx: CoordinatorContext, nodeId: string, node: CachedNode, verification: Verification): Promise<void> {
  const checked = checkVerification(ctx, verification, node.simulated);
  if (checked.json === node.verification) return;
  await ctx.db.updateTable('nodes').set({ verification: checked.json }).where('id', '=', nodeId).execute();
  node.verification = checked.json;
}

/** Verified: real GPUs whose last coordinator challenge passed and has not aged out. */
export function isVerified(row: { verified: number; verified_until: number | null; simulated: number }, now: number): boolean {
  return Number(row.verified) === 1 && !Number(row.simulated) && row.verified_until !== null && Number(row.verified_until) > now;
}

/** The owner's view of one node: status, GPUs and the leases it runs. */
export async function nodeDetail(ctx: CoordinatorContext, nodeId: string, actor: string): Promise<NodeDetail> {
  await nodeFor(ctx, nodeId, actor);
  const node = await getNode(ctx, nodeId);
  const rows = await ctx.db
    .selectFrom('lease_allocations as a')
    .innerJoin('leases as l', 'l.id', 'a.lease_id')
    .select(['l.id', 'l.state', 'l.image', 'l.ports', 'l.started_at', 'l.ends_at', 'a.gpu_uuid'])
    .where('a.node_id', '=', nodeId)
    .where('a.active', '=', 1)
    .where('l.state', 'in', [...ACTIVE_LEASE_STATES])
    .orderBy('l.id')
    .orderBy('a.gpu_uuid')
    .execute();
  const leases = new Map<string, NodeDetail['leases'][number]>();
  for (const r of rows) {
    let lease = leases.get(r.id);
    if (!lease) {
      lease = { id: r.id, state: r.state, image: r.image, gpuUuids: [], ports: JSON.parse(r.ports) as number[], startedAt: iso(r.started_at === null ? null : Number(r.started_at)), endsAt: iso(Number(r.ends_at))! };
      leases.set(r.id, lease);
    }
    lease.gpuUuids.push(r.gpu_uuid);
  }
  return { ...node, leases: [...leases.values()] };
}

export async function getNode(ctx: CoordinatorContext, nodeId: string): Promise<Node> {
  const row = await ctx.db.selectFrom('nodes').selectAll().where('id', '=', nodeId).executeTakeFirst();
  if (!row) throw notFound('Node', nodeId);
  const gpus = await ctx.db.selectFrom('gpus').select(['idx', 'uuid', 'model', 'vram_mb']).where('node_id', '=', nodeId).orderBy('idx').execute();
  return {
    id: row.id,
    owner: row.owner,
    machineId: row.machine_id,
    region: row.region,
    pricePerGpuHour: Number(row.price_per_gpu_hour),
    simulated: Boolean(row.simulated),
    verified: isVerified(row, ctx.options.now()),
    status: row.status !== 'online' ? 'offline' : row.draining ? 'draining' : 'online',
    gpus: gpus.map((g) => ({ index: g.idx, uuid: g.uuid, model: g.model, vramMb: g.vram_mb })),
    publicHost: row.public_host,
    verification: row.verification ? (JSON.parse(row.verification) as Verification) : null,
    verifiedUntil: Number(row.verified) === 1 && row.verified_until !== null ? iso(Number(row.verified_until)) : null,
    lastHeartbeatAt: iso(row.last_heartbeat_at === null ? null : Number(row.last_heartbeat_at)),
    createdAt: iso(Number(row.created_at))!,
  };
}

/** The cached node, after checking that `actor` owns it (404 for an unknown node). */
export async function nodeFor(ctx: CoordinatorContext, nodeId: string, actor: string): Promise<CachedNode> {
  let node = ctx.nodeCache.get(nodeId);
  if (!node) {
    const row = await ctx.db.selectFrom('nodes').select(['owner', 'status', 'draining', 'simulated', 'verification']).where('id', '=', nodeId).executeTakeFirst();
    if (!row) throw notFound('Node', nodeId);
    node = { owner: row.owner, status: row.status, draining: Boolean(row.draining), simulated: Boolean(row.simulated), verification: row.verification };
    if (ctx.nodeCache.size > 200_000) ctx.nodeCache.clear();
    ctx.nodeCache.set(nodeId, node);
  }
  if (node.owner !== actor) throw forbidden(`Node ${nodeId} belongs to another wallet.`);
  return node;
}

/** Set nodes.free_gpus from the GPU rows, inside the transaction that changed them (row locks first: see Engine.lockNodes). */
export async function recountFreeGpus(engine: Pick<Engine, 'lockNodes'>, trx: Db, nodeIds: readonly string[]): Promise<void> {
  const ids = [...new Set(nodeIds)];
  if (ids.length === 0) return;
  await engine.lockNodes(trx, ids);
  await trx
    .updateTable('nodes')
    .set({ free_gpus: sql<number>`(select count(*) from gpus where gpus.node_id = nodes.id and gpus.lease_id is null)` })
    .where('id', 'in', ids)
    .execute();
}
