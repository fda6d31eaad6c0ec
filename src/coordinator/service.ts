// The coordinator's business logic over the store: nodes, heartbeats, quotes, leases, metering, rewards. No HTTP here.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type {
  Allocation,
  Assignment,
  Claim,
  HeartbeatInput,
  Lease,
  LogsResponse,
  Node,
  NodeDetail,
  Offer,
  QuoteInput,
  Quote,
  RegisterNodeInput,
  Rewards,
  Verification,
} from '../api/schemas.js';
import { placeLease, type PlacedAllocation, type PlacementNode, type PlacementRequest, type PlacementResult } from '../domain/placement.js';
import { accrueMinutes, HOUR_MS, priceQuote, refundFor, startedMinutes, wholeMinutes } from '../domain/pricing.js';
import type { Db, Engine } from './db.js';
import { conflict, forbidden, HttpError, notFound } from './http-error.js';
import type { PaymentVerifier, PayoutSender } from './hooks.js';
import { PayoutOutbox, type PayoutTestPauses } from './payouts.js';
import type { ClaimsTable, LeasesTable, NodesTable } from './tables.js';

export interface ServiceOptions {
  dev: boolean;
  feeBps: number;
  /** Ledger account that receives the network fee. */
  treasuryAccount: string;
  heartbeatGraceMs: number;
  quoteTtlMs: number;
  /** How stale a cached node assignment list may be (other replicas' changes show up after this). */
  assignmentCacheMs: number;
  paymentVerifier?: PaymentVerifier;
  payoutSender?: PayoutSender;
  /** Crash tests only: pause around payout sends. */
  payoutPauses?: PayoutTestPauses;
  onError?: (error: unknown, where: string) => void;
  now: () => number;
}

const ACTIVE = ['paid', 'scheduled', 'running'] as const;
type Active = (typeof ACTIVE)[number];
const isActive = (state: string): state is Active => (ACTIVE as readonly string[]).includes(state);

interface CachedNode {
  owner: string;
  status: string;
  draining: boolean;
  simulated: boolean;
  /** JSON of the last verification stored, so a repeated report costs no write. */
  verification: string | null;
}

interface CachedAssignments {
  loadedAt: number;
  assignments: Assignment[];
  states: Map<string, string>;
  /** Content hash of `assignments`, computed on first use (long-polls compare it). */
  version?: string;
}

function versionOf(entry: CachedAssignments): string {
  entry.version ??= createHash('sha256').update(JSON.stringify(entry.assignments)).digest('base64url').slice(0, 22);
  return entry.version;
}

const EMPTY_ASSIGNMENTS: CachedAssignments = { loadedAt: 0, assignments: [], states: new Map() };
const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const reliabilityOf = (completed: number, failed: number) => (completed + 1) / (completed + failed + 2);

export class CoordinatorService {
  private readonly db: Db;
  private readonly nodeCache = new Map<string, CachedNode>();
  private readonly assignmentCache = new Map<string, CachedAssignments>();
  private readonly dirtyNodes = new Set<string>();
  private readonly changeListeners = new Set<Set<string>>();
  /** Long-polls waiting for a node's assignments to change: woken by local changes (other replicas' by the re-check). */
  private readonly assignmentWaiters = new Map<string, Set<() => void>>();
  private snapshotLoadedAt = 0;
  private snapshotLoading: Promise<void> | undefined;
  /** Latest heartbeat per node until the next flush; telemetry is serialised then, once per node rather than per heartbeat. */
  private heartbeatBuffer = new Map<string, { at: number; telemetry: HeartbeatInput['gpus'] }>();
  private nonceBuffer: Array<{ pubkey: string; nonce: string; expires_at: number }> = [];
  /** Claims and refunds on chain; absent when no payout sender is configured. */
  readonly payouts: PayoutOutbox | undefined;

  constructor(
    readonly engine: Engine,
    readonly options: ServiceOptions,
  ) {
    this.db = engine.db;
    const onError = options.onError ?? ((error: unknown, where: string) => process.stderr.write(`coordinator ${where}: ${(error as Error)?.message ?? String(error)}\n`));
    this.payouts = options.payoutSender ? new PayoutOutbox(engine, { sender: options.payoutSender, now: options.now, pauses: options.payoutPauses, onError }) : undefined;
  }

  // ---------------------------------------------------------------- nodes

  async registerNode(owner: string, input: RegisterNodeInput): Promise<Node> {
    if (input.simulated && !this.options.dev) {
      throw new HttpError(403, 'SIMULATED_REFUSED', 'Simulated GPUs are only accepted by a coordinator running in development mode (--dev).', 'Use real GPUs, or run against a local network (`iocli network up`).');
    }
    const verification = input.verification ? this.checkVerification(input.verification, input.simulated) : undefined;
    const uuids = new Set(input.gpus.map((g) => g.uuid));
    if (uuids.size !== input.gpus.length) throw new HttpError(400, 'BAD_REQUEST', 'GPU uuids must be unique within a node.');
    const now = this.options.now();
    const specs = JSON.stringify({ cpu: input.cpu, memoryMb: input.memoryMb, diskGb: input.diskGb, driverVersion: input.driverVersion, cudaVersion: input.cudaVersion, dockerVersion: input.dockerVersion, gpus: input.gpus });
    const models = [...new Set(input.gpus.map((g) => g.model.toLowerCase()))].join('|');
    const maxVram = Math.max(...input.gpus.map((g) => g.vramMb));
    const nodeId = await this.engine.writeTransaction(async (trx) => {
      const existing = await trx.selectFrom('nodes').select(['id']).where('owner', '=', owner).where('machine_id', '=', input.machineId).executeTakeFirst();
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
        ...(verification ? { verification: verification.json, verified: verification.verified ? 1 : 0 } : {}),
        last_heartbeat_at: now,
        updated_at: now,
      };
      if (existing) await trx.updateTable('nodes').set(row).where('id', '=', id).execute();
      else await trx.insertInto('nodes').values({ verified: 0, verification: null, ...row, id, owner, machine_id: input.machineId, free_gpus: 0, reliability: reliabilityOf(0, 0), leases_completed: 0, leases_failed: 0, telemetry: null, created_at: now }).execute();
      const current = await trx.selectFrom('gpus').select(['id', 'uuid', 'lease_id']).where('node_id', '=', id).execute();
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
      await this.recountFreeGpus(trx, [id]);
      return id;
    });
    // The cache is re-read on next use: the stored verification may predate this registration.
    this.nodeCache.delete(nodeId);
    this.invalidateAssignments([nodeId]);
    return this.getNode(nodeId);
  }

  /** Which verifications this coordinator accepts, and whether one makes the node verified (a passed real benchmark only). */
  private checkVerification(verification: Verification, simulated: boolean): { json: string; verified: boolean } {
    if (verification.kind === 'simulated' && !this.options.dev) {
      throw new HttpError(403, 'SIMULATED_REFUSED', 'A simulated GPU verification is only accepted by a coordinator running in development mode (--dev).', 'Run the GPU benchmark on real GPUs (iocli provide without --no-verify).');
    }
    return { json: JSON.stringify(verification), verified: verification.kind === 'benchmark' && verification.passed && !simulated };
  }

  private async recordVerification(nodeId: string, node: CachedNode, verification: Verification): Promise<void> {
    const checked = this.checkVerification(verification, node.simulated);
    if (checked.json === node.verification) return;
    await this.db.updateTable('nodes').set({ verification: checked.json, verified: checked.verified ? 1 : 0 }).where('id', '=', nodeId).execute();
    node.verification = checked.json;
  }

  /** The owner's view of one node: status, GPUs and the leases it runs. */
  async nodeDetail(nodeId: string, actor: string): Promise<NodeDetail> {
    await this.nodeFor(nodeId, actor);
    const node = await this.getNode(nodeId);
    const rows = await this.db
      .selectFrom('lease_allocations as a')
      .innerJoin('leases as l', 'l.id', 'a.lease_id')
      .select(['l.id', 'l.state', 'l.image', 'l.ports', 'l.started_at', 'l.ends_at', 'a.gpu_uuid'])
      .where('a.node_id', '=', nodeId)
      .where('a.active', '=', 1)
      .where('l.state', 'in', [...ACTIVE])
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

  /** Throws unless `actor` owns the node (404 for an unknown node). */
  async requireNodeOwner(nodeId: string, actor: string): Promise<void> {
    await this.nodeFor(nodeId, actor);
  }

  async getNode(nodeId: string): Promise<Node> {
    const row = await this.db.selectFrom('nodes').selectAll().where('id', '=', nodeId).executeTakeFirst();
    if (!row) throw notFound('Node', nodeId);
    const gpus = await this.db.selectFrom('gpus').select(['idx', 'uuid', 'model', 'vram_mb']).where('node_id', '=', nodeId).orderBy('idx').execute();
    return {
      id: row.id,
      owner: row.owner,
      machineId: row.machine_id,
      region: row.region,
      pricePerGpuHour: Number(row.price_per_gpu_hour),
      simulated: Boolean(row.simulated),
      verified: Boolean(row.verified),
      status: row.status !== 'online' ? 'offline' : row.draining ? 'draining' : 'online',
      gpus: gpus.map((g) => ({ index: g.idx, uuid: g.uuid, model: g.model, vramMb: g.vram_mb })),
      publicHost: row.public_host,
      verification: row.verification ? (JSON.parse(row.verification) as Verification) : null,
      lastHeartbeatAt: iso(row.last_heartbeat_at === null ? null : Number(row.last_heartbeat_at)),
      createdAt: iso(Number(row.created_at))!,
    };
  }

  private async nodeFor(nodeId: string, actor: string): Promise<CachedNode> {
    let node = this.nodeCache.get(nodeId);
    if (!node) {
      const row = await this.db.selectFrom('nodes').select(['owner', 'status', 'draining', 'simulated', 'verification']).where('id', '=', nodeId).executeTakeFirst();
      if (!row) throw notFound('Node', nodeId);
      node = { owner: row.owner, status: row.status, draining: Boolean(row.draining), simulated: Boolean(row.simulated), verification: row.verification };
      if (this.nodeCache.size > 200_000) this.nodeCache.clear();
      this.nodeCache.set(nodeId, node);
    }
    if (node.owner !== actor) throw forbidden(`Node ${nodeId} belongs to another wallet.`);
    return node;
  }

  private async recountFreeGpus(trx: Db, nodeIds: readonly string[]): Promise<void> {
    const ids = [...new Set(nodeIds)];
    if (ids.length === 0) return;
    await trx
      .updateTable('nodes')
      .set({ free_gpus: sql<number>`(select count(*) from gpus where gpus.node_id = nodes.id and gpus.lease_id is null)` })
      .where('id', 'in', ids)
      .execute();
  }

  // ---------------------------------------------------------------- heartbeats

  /**
   * Record a heartbeat and return the node's desired state. Liveness/telemetry is buffered (flushHeartbeats);
   * lease transitions the heartbeat reveals are written at once.
   */
  async heartbeat(nodeId: string, actor: string, input: HeartbeatInput): Promise<{ assignments: Assignment[]; version: string }> {
    const node = await this.nodeFor(nodeId, actor);
    const now = this.options.now();
    this.heartbeatBuffer.set(nodeId, { at: now, telemetry: input.gpus });
    if (input.verification) await this.recordVerification(nodeId, node, input.verification);
    if (input.draining !== undefined && input.draining !== node.draining) {
      // Written at once (not buffered): placement must stop choosing this node now, on every replica.
      await this.db.updateTable('nodes').set({ draining: input.draining ? 1 : 0 }).where('id', '=', nodeId).execute();
      node.draining = input.draining;
    }
    if (node.status !== 'online') {
      await this.db.updateTable('nodes').set({ status: 'online', last_heartbeat_at: now }).where('id', '=', nodeId).execute();
      node.status = 'online';
    }
    let current = await this.assignmentsFor(nodeId);
    let changed = false;
    for (const container of input.containers) {
      const state = current.states.get(container.leaseId);
      if (!state) continue;
      if (container.state === 'running' && (state === 'scheduled' || state === 'paid')) {
        await this.markRunning(container.leaseId, now);
        changed = true;
      } else if (container.state === 'exited' || container.state === 'failed') {
        const ok = container.state === 'exited' && container.exitCode === 0;
        const reason = ok ? null : container.message ?? `container ${container.state}${container.exitCode != null ? ` with exit code ${container.exitCode}` : ''}`;
        await this.endLease(container.leaseId, ok ? 'completed' : 'failed', now, { reason, nodeFault: false });
        changed = true;
      }
    }
    if (input.logs?.length) {
      for (const log of input.logs) {
        if (current.states.has(log.leaseId)) await this.appendLogs(log.leaseId, [{ stream: log.stream, data: log.data }], now);
      }
    }
    if (changed) current = await this.assignmentsFor(nodeId, true);
    return { assignments: current.assignments, version: versionOf(current) };
  }

  /**
   * Long-poll: the node's assignments as soon as they differ from version `after`, or at `waitMs`. Local changes wake
   * the wait at once; a periodic re-check (the snapshot refresh) catches changes made by other replicas.
   */
  async waitForAssignments(nodeId: string, actor: string, after: string | undefined, waitMs: number, signal?: AbortSignal): Promise<{ assignments: Assignment[]; version: string }> {
    await this.nodeFor(nodeId, actor);
    const deadline = Date.now() + waitMs;
    const recheckMs = Math.max(250, this.options.assignmentCacheMs);
    for (;;) {
      const current = await this.assignmentsFor(nodeId);
      const version = versionOf(current);
      const left = deadline - Date.now();
      if (version !== after || left <= 0 || signal?.aborted) return { assignments: current.assignments, version };
      await new Promise<void>((resolve) => {
        let waiters = this.assignmentWaiters.get(nodeId);
        if (!waiters) {
          waiters = new Set();
          this.assignmentWaiters.set(nodeId, waiters);
        }
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          waiters.delete(done);
          if (waiters.size === 0 && this.assignmentWaiters.get(nodeId) === waiters) this.assignmentWaiters.delete(nodeId);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, recheckMs));
        signal?.addEventListener('abort', done, { once: true });
        waiters.add(done);
      });
    }
  }

  /**
   * Desired state per node from an in-memory snapshot of all active allocations: heartbeats never query the database.
   * Local changes mark nodes dirty (re-read at once); the whole snapshot is re-read every assignmentCacheMs so
   * other replicas' changes show up too.
   */
  private async assignmentsFor(nodeId: string, reload = false): Promise<CachedAssignments> {
    if (reload || this.dirtyNodes.has(nodeId)) {
      this.dirtyNodes.delete(nodeId);
      const entry = await this.loadAssignments([nodeId]);
      const fresh = entry.get(nodeId) ?? { loadedAt: this.options.now(), assignments: [], states: new Map() };
      this.assignmentCache.set(nodeId, fresh);
      return fresh;
    }
    if (this.options.now() - this.snapshotLoadedAt >= this.options.assignmentCacheMs) await this.reloadSnapshot();
    return this.assignmentCache.get(nodeId) ?? EMPTY_ASSIGNMENTS;
  }

  private reloadSnapshot(): Promise<void> {
    this.snapshotLoading ??= (async () => {
      const changedDuringLoad = new Set<string>();
      this.changeListeners.add(changedDuringLoad);
      try {
        const loadedAt = this.options.now();
        const all = await this.loadAssignments();
        this.assignmentCache.clear();
        for (const [nodeId, entry] of all) this.assignmentCache.set(nodeId, entry);
        for (const nodeId of changedDuringLoad) this.dirtyNodes.add(nodeId);
        this.snapshotLoadedAt = loadedAt;
      } finally {
        this.changeListeners.delete(changedDuringLoad);
        this.snapshotLoading = undefined;
      }
    })();
    return this.snapshotLoading;
  }

  private async loadAssignments(nodeIds?: string[]): Promise<Map<string, CachedAssignments>> {
    const now = this.options.now();
    let q = this.db
      .selectFrom('lease_allocations as a')
      .innerJoin('leases as l', 'l.id', 'a.lease_id')
      .select(['a.node_id', 'l.id', 'l.state', 'l.image', 'l.command', 'l.env', 'l.ports', 'l.ends_at', 'a.gpu_uuid'])
      .where('a.active', '=', 1)
      .where('l.state', 'in', ['scheduled', 'running']);
    if (nodeIds) q = q.where('a.node_id', 'in', nodeIds);
    const rows = await q.orderBy('a.node_id').orderBy('l.id').orderBy('a.gpu_uuid').execute();
    const result = new Map<string, CachedAssignments>();
    const byLease = new Map<string, Assignment>();
    for (const row of rows) {
      let entry = result.get(row.node_id);
      if (!entry) {
        entry = { loadedAt: now, assignments: [], states: new Map() };
        result.set(row.node_id, entry);
      }
      const key = `${row.node_id}\u0000${row.id}`;
      let a = byLease.get(key);
      if (!a) {
        a = {
          leaseId: row.id,
          image: row.image,
          ...(row.command ? { command: JSON.parse(row.command) as string[] } : {}),
          env: JSON.parse(row.env) as Record<string, string>,
          ports: JSON.parse(row.ports) as number[],
          gpuUuids: [],
          endsAt: new Date(Number(row.ends_at)).toISOString(),
        };
        byLease.set(key, a);
        entry.assignments.push(a);
        entry.states.set(row.id, row.state);
      }
      a.gpuUuids.push(row.gpu_uuid);
    }
    return result;
  }

  private invalidateAssignments(nodeIds: Iterable<string>): void {
    for (const id of nodeIds) {
      this.dirtyNodes.add(id);
      for (const listener of this.changeListeners) listener.add(id);
      const waiters = this.assignmentWaiters.get(id);
      if (waiters) for (const wake of [...waiters]) wake();
    }
  }

  /** Remember a nonce; persisted in the next flush (heartbeats) or at once (everything else). Returns false on replay. */
  async useNonce(pubkey: string, nonce: string, expiresAt: number, persistNow: boolean): Promise<boolean> {
    if (persistNow) {
      const result = await this.db.insertInto('nonces').values({ pubkey, nonce, expires_at: expiresAt }).onConflict((oc) => oc.doNothing()).executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
    }
    this.nonceBuffer.push({ pubkey, nonce, expires_at: expiresAt });
    return true;
  }

  /** Write buffered heartbeats (last seen, telemetry) and nonces in one batch. */
  async flushHeartbeats(): Promise<number> {
    const beats = this.heartbeatBuffer;
    const nonces = this.nonceBuffer;
    if (beats.size === 0 && nonces.length === 0) return 0;
    this.heartbeatBuffer = new Map();
    this.nonceBuffer = [];
    const entries = [...beats.entries()];
    if (this.engine.kind === 'postgres') {
      for (let i = 0; i < entries.length; i += 1000) {
        const chunk = entries.slice(i, i + 1000);
        const values = sql.join(chunk.map(([id, b]) => sql`(${id}::text, ${b.at}::bigint, ${JSON.stringify(b.telemetry)}::text)`));
        await sql`update nodes as n set last_heartbeat_at = greatest(coalesce(n.last_heartbeat_at, 0), v.at), telemetry = v.t, status = 'online' from (values ${values}) as v(id, at, t) where n.id = v.id`.execute(this.db);
      }
      for (let i = 0; i < nonces.length; i += 1000) {
        await this.db.insertInto('nonces').values(nonces.slice(i, i + 1000)).onConflict((oc) => oc.doNothing()).execute();
      }
    } else {
      // One UPDATE … FROM (VALUES …) per 300 nodes: compiling and preparing a statement per node cost more than running it.
      await this.engine.writeTransaction(async (trx) => {
        for (let i = 0; i < entries.length; i += 300) {
          const values = sql.join(entries.slice(i, i + 300).map(([id, b]) => sql`(${id}, ${b.at}, ${JSON.stringify(b.telemetry)})`));
          await sql`update nodes set last_heartbeat_at = max(coalesce(nodes.last_heartbeat_at, 0), v.column2), telemetry = v.column3, status = 'online' from (values ${values}) as v where nodes.id = v.column1`.execute(trx);
        }
        for (let i = 0; i < nonces.length; i += 200) {
          await trx.insertInto('nonces').values(nonces.slice(i, i + 200)).onConflict((oc) => oc.doNothing()).execute();
        }
      });
    }
    return entries.length;
  }

  // ---------------------------------------------------------------- logs

  async appendLogs(leaseId: string, chunks: Array<{ stream: 'stdout' | 'stderr'; data: string }>, now = this.options.now()): Promise<void> {
    await this.db.insertInto('lease_logs').values(chunks.map((c) => ({ lease_id: leaseId, stream: c.stream, data: c.data, created_at: now }))).execute();
  }

  async uploadLogs(nodeId: string, actor: string, leaseId: string, chunks: Array<{ stream: 'stdout' | 'stderr'; data: string }>): Promise<void> {
    await this.nodeFor(nodeId, actor);
    const allocated = await this.db.selectFrom('lease_allocations').select('lease_id').where('lease_id', '=', leaseId).where('node_id', '=', nodeId).executeTakeFirst();
    if (!allocated) throw forbidden(`Lease ${leaseId} does not run on node ${nodeId}.`);
    await this.appendLogs(leaseId, chunks);
  }

  async leaseLogs(renter: string, leaseId: string, query: { tail?: number; since?: number }): Promise<LogsResponse> {
    await this.leaseRow(renter, leaseId);
    let q = this.db.selectFrom('lease_logs').select(['id', 'stream', 'data', 'created_at']).where('lease_id', '=', leaseId);
    if (query.since !== undefined) q = q.where('id', '>', query.since);
    const rows = query.tail ? (await q.orderBy('id', 'desc').limit(query.tail).execute()).reverse() : await q.orderBy('id').limit(10_000).execute();
    const entries = rows.map((r) => ({ cursor: Number(r.id), stream: r.stream === 'stderr' ? ('stderr' as const) : ('stdout' as const), data: r.data, at: iso(Number(r.created_at))! }));
    return { entries, cursor: entries.length > 0 ? entries[entries.length - 1]!.cursor : (query.since ?? 0) };
  }

  // ---------------------------------------------------------------- offers and placement

  async offers(query: { model?: string; minVram?: number; gpus?: number; maxPrice?: number; region?: string; sort: 'price' | 'reliability'; limit: number }): Promise<Offer[]> {
    let q = this.db
      .selectFrom('gpus as g')
      .innerJoin('nodes as n', 'n.id', 'g.node_id')
      .select((eb) => ['n.id', 'g.model', 'n.price_per_gpu_hour', 'n.region', 'n.reliability', 'n.verified', 'n.simulated', 'n.total_gpus', eb.fn.min('g.vram_mb').as('vram'), eb.fn.countAll<number>().as('free')])
      .where('n.status', '=', 'online')
      .where('n.draining', '=', 0)
      .where('g.lease_id', 'is', null);
    if (query.model) q = q.where(sql<string>`lower(g.model)`, 'like', `%${query.model.toLowerCase()}%`);
    if (query.minVram !== undefined) q = q.where('g.vram_mb', '>=', query.minVram);
    if (query.maxPrice !== undefined) q = q.where('n.price_per_gpu_hour', '<=', query.maxPrice);
    if (query.region) q = q.where(sql<string>`lower(n.region)`, '=', query.region.toLowerCase());
    let grouped = q.groupBy(['n.id', 'g.model', 'n.price_per_gpu_hour', 'n.region', 'n.reliability', 'n.verified', 'n.simulated', 'n.total_gpus']);
    if (query.gpus !== undefined) grouped = grouped.having((eb) => eb.fn.countAll(), '>=', query.gpus);
    const ordered =
      query.sort === 'reliability'
        ? grouped.orderBy('n.reliability', 'desc').orderBy('n.price_per_gpu_hour', 'asc')
        : grouped.orderBy('n.price_per_gpu_hour', 'asc').orderBy('n.reliability', 'desc');
    const rows = await ordered.orderBy('n.id').limit(query.limit).execute();
    return rows.map((r) => ({
      nodeId: r.id,
      model: r.model,
      vramMb: Number(r.vram),
      freeGpus: Number(r.free),
      totalGpus: Number(r.total_gpus),
      pricePerGpuHour: Number(r.price_per_gpu_hour),
      region: r.region,
      reliability: Math.round(Number(r.reliability) * 1000) / 1000,
      verified: Boolean(r.verified),
      simulated: Boolean(r.simulated),
      verification: r.simulated ? ('simulated' as const) : r.verified ? ('verified' as const) : ('unverified' as const),
    }));
  }

  /**
   * Find a placement through the store: SQL narrows to the cheapest nodes with enough free GPUs (indexed), the pure
   * placement decides. Falls back to a full scan only to explain a failure.
   */
  async findPlacement(db: Db, request: PlacementRequest, exclude: ReadonlySet<string> = new Set()): Promise<PlacementResult> {
    const batch = 64;
    for (let page = 0; page < 8; page++) {
      const nodes = await this.candidateNodes(db, request, request.gpus, batch, page * batch, exclude);
      if (nodes.length === 0) break;
      const result = placeLease(nodes, { ...request, multiNode: false });
      if (result.ok) return result;
      if (nodes.length < batch) break;
    }
    if (request.multiNode) {
      const pool: PlacementNode[] = [];
      let free = 0;
      for (let page = 0; page < 64 && free < request.gpus; page++) {
        const nodes = await this.candidateNodes(db, request, 1, 256, page * 256, exclude);
        pool.push(...nodes);
        free += nodes.reduce((n, node) => n + node.freeGpus.length, 0);
        if (nodes.length < 256) break;
      }
      const result = placeLease(pool, request);
      if (result.ok) return result;
    }
    // Nothing fits: explain over every online node (slow path, only on failure).
    const all = await this.candidateNodes(db, { gpus: 0 }, 0, 1_000_000, 0, exclude, true);
    return placeLease(all, request);
  }

  private async candidateNodes(
    db: Db,
    request: PlacementRequest,
    minFree: number,
    limit: number,
    offset: number,
    exclude: ReadonlySet<string>,
    includeFull = false,
  ): Promise<PlacementNode[]> {
    let q = db.selectFrom('nodes').select(['id', 'region', 'price_per_gpu_hour', 'reliability', 'verified']).where('status', '=', 'online').where('draining', '=', 0);
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
      const gpus = await db.selectFrom('gpus').select(['id', 'node_id', 'uuid', 'idx', 'model', 'vram_mb']).where('node_id', 'in', ids.slice(i, i + 500)).where('lease_id', 'is', null).execute();
      for (const g of gpus) {
        if (exclude.has(g.id)) continue;
        byNode.get(g.node_id)!.freeGpus.push({ id: g.id, uuid: g.uuid, index: g.idx, model: g.model, vramMb: g.vram_mb });
      }
    }
    return [...byNode.values()];
  }

  // ---------------------------------------------------------------- quotes and leases

  async quote(renter: string, input: QuoteInput): Promise<Quote> {
    const request: PlacementRequest = { gpus: input.gpus, model: input.model, minVram: input.minVram, region: input.region, maxPrice: input.maxPrice, multiNode: input.multiNode };
    const placement = await this.findPlacement(this.db, request);
    if (!placement.ok) throw this.noCapacity(input, placement.explanation);
    const price = priceQuote(placement.allocations.map((a) => ({ pricePerGpuHour: a.pricePerGpuHour, gpus: a.gpuIds.length })), input.hours, this.options.feeBps);
    const now = this.options.now();
    const id = newId('q');
    const expiresAt = now + this.options.quoteTtlMs;
    const allocations = placement.allocations.map(toAllocation);
    await this.db
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
    return { quoteId: id, gpus: input.gpus, model: input.model ?? null, hours: input.hours, pricePerGpuHour: price.pricePerGpuHour, perHour: price.perHour, total: price.total, fee: price.fee, expiresAt: iso(expiresAt)!, placement: allocations };
  }

  private noCapacity(input: QuoteInput, explanation: import('../domain/placement.js').PlacementExplanation): HttpError {
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

  async createLease(renter: string, input: { quoteId: string; payment?: { transaction: string } }): Promise<Lease> {
    const now = this.options.now();
    const quote = await this.db.selectFrom('quotes').selectAll().where('id', '=', input.quoteId).executeTakeFirst();
    if (!quote) throw notFound('Quote', input.quoteId);
    if (quote.renter !== renter) throw forbidden(`Quote ${input.quoteId} was issued to another wallet.`);
    if (quote.lease_id) throw conflict('QUOTE_USED', `Quote ${input.quoteId} was already used for lease ${quote.lease_id}.`, 'Request a new quote.');
    if (Number(quote.expires_at) < now) throw new HttpError(410, 'QUOTE_EXPIRED', `Quote ${input.quoteId} expired.`, 'Request a new quote (quotes last a few minutes).');

    const paymentSignature = await this.takePayment(renter, Number(quote.total), quote.id, input.payment);
    const leaseId = newId('lease');
    const request = JSON.parse(quote.request) as QuoteInput;
    const quoted = JSON.parse(quote.allocations) as PlacedAllocation[];
    let touched: string[] = [];
    let refundPayout: string | null = null;
    try {
      touched = await this.engine.writeTransaction(async (trx) => {
        refundPayout = null;
        const claimed = await trx.updateTable('quotes').set({ lease_id: leaseId }).where('id', '=', quote.id).where('lease_id', 'is', null).executeTakeFirst();
        if (Number(claimed.numUpdatedRows) !== 1) throw conflict('QUOTE_USED', `Quote ${input.quoteId} was already used.`, 'Request a new quote.');
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
        const allocations = await this.allocate(trx, request, quoted);
        if (!allocations) {
          await trx.updateTable('leases').set({ state: 'failed', failure_reason: 'The quoted capacity was taken before payment completed.', refund: Number(quote.total), stopped_at: now }).where('id', '=', leaseId).execute();
          await trx.insertInto('ledger').values({ kind: 'refund', account: renter, amount: Number(quote.total), lease_id: leaseId, claim_id: null, created_at: now }).execute();
          refundPayout = await this.queueRefund(trx, { id: leaseId, renter, payment_signature: paymentSignature }, Number(quote.total));
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
        await this.recountFreeGpus(trx, nodeIds);
        await trx.updateTable('leases').set({ state: 'scheduled' }).where('id', '=', leaseId).execute();
        return nodeIds;
      });
    } catch (error) {
      if (isUniqueViolation(error) && paymentSignature && String((error as Error).message).includes('payment_signature')) {
        throw conflict('PAYMENT_REUSED', 'This payment transaction already paid for another lease.', 'Sign a new payment for this quote.');
      }
      throw error;
    }
    this.invalidateAssignments(touched);
    if (refundPayout) await this.payouts!.settle(refundPayout);
    return this.getLease(renter, leaseId);
  }

  /** The unused share of a paid lease goes back on chain through the payout outbox (in the caller's transaction). */
  private async queueRefund(trx: Db, lease: { id: string | null; renter: string; payment_signature: string | null }, amount: number): Promise<string | null> {
    // Only money that arrived on chain goes back on chain: dev-mode unpaid leases refund on the ledger only.
    if (amount <= 0 || !lease.payment_signature || !this.payouts) return null;
    const id = newId('refund');
    await this.payouts.enqueue(trx, { id, kind: 'refund', owner: lease.renter, amount, leaseId: lease.id });
    return id;
  }

  /** Claim the transaction (and the reference it pays) before anything is submitted: one transaction pays once. */
  private async reservePayment(signature: string, reference: string, renter: string, amount: number): Promise<void> {
    try {
      await this.db.insertInto('payments').values({ signature, reference, renter, amount, state: 'pending', created_at: this.options.now() }).execute();
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const bySignature = await this.db.selectFrom('payments').select(['reference']).where('signature', '=', signature).executeTakeFirst();
      if (bySignature) throw conflict('PAYMENT_REUSED', `This payment transaction (${signature}) already paid for ${bySignature.reference}.`, 'Sign a new payment for this quote.');
      throw conflict('ALREADY_PAID', `${reference} is already paid (or a payment for it is being confirmed).`, 'Request a new quote, or check `iocli leases`.');
    }
  }

  private async takePayment(renter: string, amount: number, reference: string, payment: { transaction: string } | undefined): Promise<string | null> {
    const verifier = this.options.paymentVerifier;
    if (!verifier) {
      if (this.options.dev) return null;
      throw new HttpError(503, 'PAYMENTS_UNAVAILABLE', 'This coordinator cannot verify payments (no payment verifier configured).', 'Contact the operator; development coordinators (--dev) accept unpaid leases.');
    }
    if (!payment) throw new HttpError(402, 'PAYMENT_REQUIRED', `A payment of ${amount} base units is required (payment.transaction).`, 'iocli signs the transfer for you: run `iocli rent` with a funded wallet.');
    let reserved: string | undefined;
    const reserve = async (signature: string) => {
      if (reserved === signature) return;
      await this.reservePayment(signature, reference, renter, amount);
      reserved = signature;
    };
    try {
      const verified = await verifier.verify({ renter, amount, reference, transaction: payment.transaction, reserve });
      // A verifier that did not reserve up front is still held to one payment per transaction.
      await reserve(verified.signature);
      await this.db.updateTable('payments').set({ state: 'confirmed' }).where('signature', '=', verified.signature).execute();
      return verified.signature;
    } catch (error) {
      // A definite rejection frees the reservation; anything else (RPC gone mid-wait) may still land: recoverPayments decides.
      if (reserved && error instanceof HttpError && error.status < 500) {
        await this.db.deleteFrom('payments').where('signature', '=', reserved).where('state', '=', 'pending').execute();
      }
      if (error instanceof HttpError) throw error;
      throw new HttpError(402, 'PAYMENT_REJECTED', `Payment rejected: ${(error as Error).message}`);
    }
  }

  /** Allocate inside a write transaction: the quoted GPUs if still free, otherwise a fresh placement at no higher price. */
  private async allocate(trx: Db, request: QuoteInput, quoted: PlacedAllocation[]): Promise<PlacedAllocation[] | null> {
    const quotedIds = quoted.flatMap((a) => a.gpuIds);
    const free = await this.engine.lockFreeGpus(trx, quotedIds);
    if (quotedIds.every((id) => free.has(id))) return quoted;
    const maxPrice = Math.max(...quoted.map((a) => a.pricePerGpuHour));
    const taken = new Set<string>(quotedIds.filter((id) => !free.has(id)));
    const placementRequest: PlacementRequest = { ...request, maxPrice: Math.min(request.maxPrice ?? maxPrice, maxPrice) };
    for (let attempt = 0; attempt < 8; attempt++) {
      const result = await this.findPlacement(trx, placementRequest, taken);
      if (!result.ok) return null;
      const ids = result.allocations.flatMap((a) => a.gpuIds);
      const locked = await this.engine.lockFreeGpus(trx, ids);
      if (ids.every((id) => locked.has(id))) return result.allocations;
      for (const id of ids) if (!locked.has(id)) taken.add(id);
    }
    return null;
  }

  private async leaseRow(renter: string, leaseId: string): Promise<LeasesTable> {
    const row = await this.db.selectFrom('leases').selectAll().where('id', '=', leaseId).executeTakeFirst();
    if (!row) throw notFound('Lease', leaseId);
    if (row.renter !== renter) throw forbidden(`Lease ${leaseId} belongs to another wallet.`);
    return row;
  }

  async getLease(renter: string, leaseId: string): Promise<Lease> {
    const row = await this.leaseRow(renter, leaseId);
    return (await this.toLeases([row]))[0]!;
  }

  async listLeases(renter: string, all: boolean): Promise<Lease[]> {
    let q = this.db.selectFrom('leases').selectAll().where('renter', '=', renter);
    if (!all) q = q.where('state', 'in', [...ACTIVE]);
    return this.toLeases(await q.orderBy('created_at', 'desc').limit(1000).execute());
  }

  private async toLeases(rows: LeasesTable[]): Promise<Lease[]> {
    if (rows.length === 0) return [];
    const allocs = await this.db
      .selectFrom('lease_allocations as a')
      .innerJoin('nodes as n', 'n.id', 'a.node_id')
      .select(['a.lease_id', 'a.node_id', 'a.gpu_uuid', 'a.price_per_gpu_hour', 'n.region', 'n.public_host'])
      .where('a.lease_id', 'in', rows.map((r) => r.id))
      .orderBy('a.lease_id')
      .orderBy('a.gpu_uuid')
      .execute();
    const refundRows = await this.db
      .selectFrom('claims')
      .select(['lease_id', 'signature'])
      .where('kind', '=', 'refund')
      .where('lease_id', 'in', rows.map((r) => r.id))
      .orderBy('created_at')
      .execute();
    const refunds = new Map(refundRows.map((r) => [r.lease_id!, r.signature]));
    const byLease = new Map<string, Map<string, Allocation>>();
    for (const a of allocs) {
      const nodes = byLease.get(a.lease_id) ?? new Map<string, Allocation>();
      byLease.set(a.lease_id, nodes);
      const entry = nodes.get(a.node_id) ?? { nodeId: a.node_id, gpuUuids: [], pricePerGpuHour: Number(a.price_per_gpu_hour), region: a.region, publicHost: a.public_host };
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
      allocations: [...(byLease.get(r.id)?.values() ?? [])],
      paymentSignature: r.payment_signature,
      refundSignature: refunds.get(r.id) ?? null,
      failureReason: r.failure_reason,
      createdAt: iso(Number(r.created_at))!,
      startedAt: iso(r.started_at === null ? null : Number(r.started_at)),
      endsAt: iso(Number(r.ends_at))!,
      stoppedAt: iso(r.stopped_at === null ? null : Number(r.stopped_at)),
    }));
  }

  private async markRunning(leaseId: string, now: number): Promise<void> {
    await this.db.updateTable('leases').set({ state: 'running', started_at: now }).where('id', '=', leaseId).where('state', 'in', ['paid', 'scheduled']).execute();
  }

  async extendLease(renter: string, leaseId: string, input: { hours: number; payment?: { transaction: string } }): Promise<Lease> {
    const row = await this.leaseRow(renter, leaseId);
    if (!isActive(row.state)) throw conflict('LEASE_ENDED', `Lease ${leaseId} has ended (${row.state}) and cannot be extended.`, 'Rent again with `iocli rent`.');
    const { MAX_LEASE_HOURS } = await import('../api/schemas.js');
    if (Number(row.hours) + input.hours > MAX_LEASE_HOURS) throw new HttpError(400, 'BAD_REQUEST', `A lease may last at most ${MAX_LEASE_HOURS} hours in total.`);
    const amount = Number(row.per_hour) * input.hours;
    const signature = await this.takePayment(renter, amount, `extend:${leaseId}:${Number(row.hours) + input.hours}`, input.payment);
    const now = this.options.now();
    await this.engine.writeTransaction(async (trx) => {
      await this.engine.lockLease(trx, leaseId);
      const current = await trx.selectFrom('leases').select(['state', 'ends_at', 'hours', 'total_paid']).where('id', '=', leaseId).executeTakeFirstOrThrow();
      if (!isActive(current.state)) throw conflict('LEASE_ENDED', `Lease ${leaseId} has ended (${current.state}).`);
      await trx
        .updateTable('leases')
        .set({ hours: Number(current.hours) + input.hours, ends_at: Number(current.ends_at) + input.hours * HOUR_MS, total_paid: Number(current.total_paid) + amount })
        .where('id', '=', leaseId)
        .execute();
      await trx.insertInto('ledger').values({ kind: 'payment', account: renter, amount, lease_id: leaseId, claim_id: signature, created_at: now }).execute();
      if (signature) await trx.updateTable('payments').set({ state: 'used' }).where('signature', '=', signature).execute();
    });
    this.invalidateAssignments(await this.leaseNodes(leaseId));
    return this.getLease(renter, leaseId);
  }

  /** Stop early; a paid lease's refund is sent on chain and confirmed before this returns (the retry pass covers failures). */
  async stopLease(renter: string, leaseId: string): Promise<{ lease: Lease; refund: number; refundSignature: string | null }> {
    const row = await this.leaseRow(renter, leaseId);
    if (!isActive(row.state)) throw conflict('LEASE_ENDED', `Lease ${leaseId} has already ended (${row.state}).`);
    const ended = await this.endLease(leaseId, 'stopped', this.options.now(), { reason: null, nodeFault: false }, { settle: 'now' });
    if (ended && ended.refundPayout) await this.payouts!.settle(ended.refundPayout).catch((error) => this.options.onError?.(error, `refund ${ended.refundPayout}`));
    const lease = await this.getLease(renter, leaseId);
    return { lease, refund: lease.refund, refundSignature: lease.refundSignature ?? null };
  }

  private async leaseNodes(leaseId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('lease_allocations').select('node_id').distinct().where('lease_id', '=', leaseId).execute();
    return rows.map((r) => r.node_id);
  }

  /**
   * End an active lease: meter the running time it has left, refund the unused share, free its GPUs, update node reliability.
   * Idempotent: a lease that already ended is left alone.
   */
  async endLease(
    leaseId: string,
    state: 'completed' | 'stopped' | 'failed',
    endedAt: number,
    options: { reason: string | null; nodeFault: boolean },
    { settle = 'later' }: { settle?: 'now' | 'later' } = {},
  ): Promise<false | { refundPayout: string | null }> {
    let refundPayout: string | null = null;
    const nodeIds = await this.engine.writeTransaction(async (trx) => {
      refundPayout = null;
      await this.engine.lockLease(trx, leaseId);
      const lease = await trx.selectFrom('leases').selectAll().where('id', '=', leaseId).executeTakeFirst();
      if (!lease || !isActive(lease.state)) return null;
      const end = Math.min(endedAt, Number(lease.ends_at));
      // A lease that ends while confirmed running (stopped by its renter, or its workload finished) pays the provider for
      // the started minute too, as the renter is billed for it; a node fault pays only whole confirmed minutes.
      await this.accrue(trx, lease, end, lease.state === 'running' && !options.nodeFault ? 'started' : 'whole');
      const refund = refundFor({ totalPaid: Number(lease.total_paid), startsAt: Number(lease.starts_at), endsAt: Number(lease.ends_at) }, end);
      await trx.updateTable('leases').set({ state, stopped_at: endedAt, refund, failure_reason: options.reason }).where('id', '=', leaseId).execute();
      if (refund > 0) await trx.insertInto('ledger').values({ kind: 'refund', account: lease.renter, amount: refund, lease_id: leaseId, claim_id: null, created_at: endedAt }).execute();
      refundPayout = await this.queueRefund(trx, lease, refund);
      const nodes = (await trx.selectFrom('lease_allocations').select('node_id').distinct().where('lease_id', '=', leaseId).execute()).map((r) => r.node_id);
      await trx.updateTable('gpus').set({ lease_id: null }).where('lease_id', '=', leaseId).execute();
      await trx.updateTable('lease_allocations').set({ active: 0 }).where('lease_id', '=', leaseId).execute();
      await this.recountFreeGpus(trx, nodes);
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
    this.invalidateAssignments(nodeIds);
    // (TypeScript cannot see the assignment inside the callback.)
    const payout = refundPayout as string | null;
    if (payout && settle === 'later') this.payouts!.settleLater(payout);
    return { refundPayout: payout };
  }

  /** Write ledger rows for confirmed running minutes up to `upTo` (accrual to each node owner, fee to the treasury). */
  private async accrue(trx: Db, lease: LeasesTable, upTo: number, minutesCounted: 'whole' | 'started' = 'whole'): Promise<void> {
    if (lease.started_at === null) return;
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
    const now = this.options.now();
    for (const node of perNode) {
      const accrual = accrueMinutes(Number(node.price_per_gpu_hour) * Number(node.gpus), already, minutes, this.options.feeBps);
      if (accrual.net > 0) await trx.insertInto('ledger').values({ kind: 'accrual', account: node.owner, amount: accrual.net, lease_id: lease.id, claim_id: null, created_at: now }).execute();
      if (accrual.fee > 0) await trx.insertInto('ledger').values({ kind: 'fee', account: this.options.treasuryAccount, amount: accrual.fee, lease_id: lease.id, claim_id: null, created_at: now }).execute();
    }
    await trx.updateTable('leases').set({ accrued_minutes: minutes }).where('id', '=', lease.id).execute();
  }

  // ---------------------------------------------------------------- periodic work

  /** Offline detection, lease expiry, periodic metering and clean-up. Safe to run on several replicas. */
  async sweep(options: { meter?: boolean } = {}): Promise<{ offline: string[]; failed: string[]; completed: string[] }> {
    await this.flushHeartbeats();
    const now = this.options.now();
    const deadline = now - this.options.heartbeatGraceMs;
    const stale = await this.db.selectFrom('nodes').select(['id', 'last_heartbeat_at']).where('status', '=', 'online').where('last_heartbeat_at', '<', deadline).execute();
    const offline: string[] = [];
    const failed: string[] = [];
    for (const node of stale) {
      const updated = await this.db.updateTable('nodes').set({ status: 'offline' }).where('id', '=', node.id).where('status', '=', 'online').where('last_heartbeat_at', '<', deadline).executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) continue;
      offline.push(node.id);
      const cached = this.nodeCache.get(node.id);
      if (cached) cached.status = 'offline';
      const leases = await this.db
        .selectFrom('lease_allocations as a')
        .innerJoin('leases as l', 'l.id', 'a.lease_id')
        .select('l.id')
        .distinct()
        .where('a.node_id', '=', node.id)
        .where('a.active', '=', 1)
        .where('l.state', 'in', [...ACTIVE])
        .execute();
      for (const lease of leases) {
        const endedAt = Math.max(Number(node.last_heartbeat_at ?? now), 0);
        if (await this.endLease(lease.id, 'failed', endedAt, { reason: `Node ${node.id} went offline (no heartbeat for ${Math.round(this.options.heartbeatGraceMs / 1000)} s).`, nodeFault: true })) failed.push(lease.id);
      }
    }
    const due = await this.db.selectFrom('leases').select('id').where('state', 'in', [...ACTIVE]).where('ends_at', '<=', now).execute();
    const completed: string[] = [];
    for (const lease of due) if (await this.endLease(lease.id, 'completed', now, { reason: null, nodeFault: false })) completed.push(lease.id);
    if (options.meter) await this.meterRunning(now);
    await this.db.deleteFrom('nonces').where('expires_at', '<', now).execute();
    await this.db.deleteFrom('node_sessions').where('expires_at', '<', now).execute();
    return { offline, failed, completed };
  }

  /** Periodic accrual for running leases, bounded by each node's last confirmed heartbeat. */
  async meterRunning(now = this.options.now()): Promise<void> {
    const running = await this.db
      .selectFrom('leases as l')
      .innerJoin('lease_allocations as a', 'a.lease_id', 'l.id')
      .innerJoin('nodes as n', 'n.id', 'a.node_id')
      .select(['l.id', (eb) => eb.fn.min('n.last_heartbeat_at').as('confirmed')])
      .where('l.state', '=', 'running')
      .groupBy('l.id')
      .execute();
    for (const r of running) {
      const upTo = Math.min(now, Number(r.confirmed ?? 0));
      await this.engine.writeTransaction(async (trx) => {
        await this.engine.lockLease(trx, r.id);
        const lease = await trx.selectFrom('leases').selectAll().where('id', '=', r.id).executeTakeFirst();
        if (lease && lease.state === 'running') await this.accrue(trx, lease, upTo);
      });
    }
  }

  // ---------------------------------------------------------------- rewards and claims

  async rewards(owner: string): Promise<Rewards> {
    const sums = await this.db
      .selectFrom('ledger')
      .select(['kind', (eb) => eb.fn.sum<number>('amount').as('total')])
      .where('account', '=', owner)
      .where('kind', 'in', ['accrual', 'claim'])
      .groupBy('kind')
      .execute();
    const accrued = Number(sums.find((s) => s.kind === 'accrual')?.total ?? 0);
    const claimedRows = await this.db
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
    const ledger = await this.db
      .selectFrom('ledger')
      .select(['kind', 'amount', 'lease_id', 'claim_id', 'created_at'])
      .where('account', '=', owner)
      .where('kind', 'in', ['accrual', 'claim'])
      .orderBy('id', 'desc')
      .limit(100)
      .execute();
    const claims = await this.db.selectFrom('claims').selectAll().where('owner', '=', owner).where('kind', '=', 'claim').orderBy('created_at', 'desc').limit(100).execute();
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
  async claim(owner: string): Promise<Claim> {
    const sender = this.options.payoutSender;
    if (!sender) throw new HttpError(503, 'PAYOUTS_UNAVAILABLE', 'This coordinator has no payout sender configured, so rewards cannot be claimed yet.', 'Rewards keep accruing; claim again once the operator enables payouts.');
    const now = this.options.now();
    const claimId = newId('claim');
    await this.engine.writeTransaction(async (trx) => {
      await this.engine.lockAccount(trx, owner);
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
    await this.payouts!.settle(claimId, { fresh: true });
    return this.getClaim(claimId);
  }

  /** On start: settle every unfinished claim and refund from the chain (re-signing only expired transfers). */
  async recoverClaims(): Promise<void> {
    await this.payouts?.settleOpen();
  }

  /**
   * Payments that landed but never became a lease or an extension (a crash, a lost RPC connection, a failed insert)
   * are refunded in full through the outbox; reservations that never landed are dropped. Only rows older than
   * `olderThanMs` (well past any blockhash's life) are looked at, so payments being verified right now are left alone.
   */
  async recoverPayments(olderThanMs = 5 * 60_000): Promise<number> {
    const verifier = this.options.paymentVerifier;
    if (!verifier?.status) return 0;
    const stale = await this.db.selectFrom('payments').selectAll().where('state', 'in', ['pending', 'confirmed']).where('created_at', '<', this.options.now() - olderThanMs).limit(500).execute();
    let refunded = 0;
    for (const payment of stale) {
      const outcome = await verifier.status(payment.signature).catch((error: unknown) => {
        this.options.onError?.(error, `payment ${payment.signature}`);
        return 'error' as const;
      });
      if (outcome === 'error') continue;
      if (outcome !== 'confirmed') {
        await this.db.deleteFrom('payments').where('signature', '=', payment.signature).where('state', '=', payment.state).execute();
        continue;
      }
      const payout = await this.engine.writeTransaction(async (trx) => {
        const taken = await trx.updateTable('payments').set({ state: 'refunded' }).where('signature', '=', payment.signature).where('state', 'in', ['pending', 'confirmed']).executeTakeFirst();
        if (Number(taken.numUpdatedRows) !== 1) return null;
        const now = this.options.now();
        const amount = Number(payment.amount);
        await trx.insertInto('ledger').values({ kind: 'payment', account: payment.renter, amount, lease_id: null, claim_id: payment.signature, created_at: now }).execute();
        await trx.insertInto('ledger').values({ kind: 'refund', account: payment.renter, amount, lease_id: null, claim_id: payment.signature, created_at: now }).execute();
        return this.queueRefund(trx, { id: null, renter: payment.renter, payment_signature: payment.signature }, amount);
      });
      if (payout) {
        refunded++;
        await this.payouts!.settle(payout);
      }
    }
    return refunded;
  }

  /** Periodic retry of payouts that a failed send or a crash left open. */
  async retryStalePayouts(olderThanMs: number): Promise<number> {
    return (await this.payouts?.settleOpen(olderThanMs)) ?? 0;
  }

  private async getClaim(claimId: string): Promise<Claim> {
    return toClaim(await this.db.selectFrom('claims').selectAll().where('id', '=', claimId).executeTakeFirstOrThrow());
  }

  // ---------------------------------------------------------------- metrics

  async gauges(): Promise<{ nodesOnline: number; nodesOffline: number; gpusFree: number; gpusLeased: number; leases: Record<string, number> }> {
    const nodes = await this.db.selectFrom('nodes').select(['status', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>('free_gpus').as('free'), (eb) => eb.fn.sum<number>('total_gpus').as('total')]).groupBy('status').execute();
    const online = nodes.find((n) => n.status === 'online');
    const leased = await this.db.selectFrom('gpus').select((eb) => eb.fn.countAll<number>().as('n')).where('lease_id', 'is not', null).executeTakeFirst();
    const leases = await this.db.selectFrom('leases').select(['state', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('state').execute();
    return {
      nodesOnline: Number(online?.n ?? 0),
      nodesOffline: Number(nodes.find((n) => n.status === 'offline')?.n ?? 0),
      gpusFree: Number(online?.free ?? 0),
      gpusLeased: Number(leased?.n ?? 0),
      leases: Object.fromEntries(leases.map((l) => [l.state, Number(l.n)])),
    };
  }
}

function toClaim(c: Pick<ClaimsTable, 'id' | 'owner' | 'amount' | 'state' | 'signature' | 'created_at'>): Claim {
  return { id: c.id, owner: c.owner, amount: Number(c.amount), state: c.state as Claim['state'], signature: c.signature, createdAt: iso(Number(c.created_at))! };
}

function toAllocation(a: PlacedAllocation): Allocation {
  return { nodeId: a.nodeId, gpuUuids: a.gpuUuids, pricePerGpuHour: a.pricePerGpuHour, region: a.region };
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export { randomUUID };
