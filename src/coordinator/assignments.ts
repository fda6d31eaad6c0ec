// Each node's desired state (its active assignments) from an in-memory snapshot, and the long-polls waiting on it.
import { createHash } from 'node:crypto';
import type { Assignment } from '../api/schemas/nodes.js';
import type { ChallengeOffer, ProbeOffer } from '../api/schemas/provider-trust.js';
import { openChallenges } from './challenges.js';
import { openProbes } from './evidence.js';
import type { Db } from './db.js';
import { parseRunAs } from './tables.js';

export interface CachedAssignments {
  loadedAt: number;
  assignments: Assignment[];
  states: Map<string, string>;
  /** An open GPU challenge for the node (it rides on the same replies). */
  challenge?: ChallengeOffer;
  /** An open liveness probe of its running leases. */
  probe?: ProbeOffer;
  /** Content hash of `assignments`, computed on first use (long-polls compare it). */
  version?: string;
  /** `{assignments, version}` as JSON, computed on first use: most heartbeat replies are this exact text. */
  json?: string;
}

/** The heartbeat reply for an entry, serialised once per snapshot rather than once per heartbeat. */
export function replyJsonOf(entry: CachedAssignments): string {
  entry.json ??= JSON.stringify({ assignments: entry.assignments, version: versionOf(entry), ...(entry.challenge ? { challenge: entry.challenge } : {}), ...(entry.probe ? { probe: entry.probe } : {}) });
  return entry.json;
}

export function versionOf(entry: CachedAssignments): string {
  entry.version ??= createHash('sha256').update(JSON.stringify(entry.assignments)).update(entry.challenge?.id ?? '').update(entry.probe?.id ?? '').digest('base64url').slice(0, 22);
  return entry.version;
}

const EMPTY_ASSIGNMENTS: CachedAssignments = { loadedAt: 0, assignments: [], states: new Map() };

/**
 * Desired state per node from an in-memory snapshot of all active allocations: heartbeats never query the database.
 * Local changes mark nodes dirty (re-read at once); the whole snapshot is re-read every assignmentCacheMs so
 * other replicas' changes show up too.
 */
export class AssignmentBoard {
  private readonly assignmentCache = new Map<string, CachedAssignments>();
  private readonly dirtyNodes = new Set<string>();
  private readonly changeListeners = new Set<Set<string>>();
  /** Long-polls waiting for a node's assignments to change: woken by local changes (other replicas' by the re-check). */
  private readonly assignmentWaiters = new Map<string, Set<() => void>>();
  private snapshotLoadedAt = 0;
  private snapshotLoading: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly options: { now: () => number; assignmentCacheMs: number },
  ) {}

  async forNode(nodeId: string, reload = false): Promise<CachedAssignments> {
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

  /**
   * The node's cached entry when it can be used without waiting, otherwise undefined (a local change is pending, or no
   * snapshot was loaded yet). A stale snapshot is still served while a refresh runs in the background: it only delays
   * other replicas' changes by one heartbeat, and keeps every node's heartbeat off the slow path once a second.
   */
  peek(nodeId: string): CachedAssignments | undefined {
    if (this.dirtyNodes.has(nodeId) || this.snapshotLoadedAt === 0) return undefined;
    if (this.options.now() - this.snapshotLoadedAt >= this.options.assignmentCacheMs) {
      // A failed refresh is retried by the next heartbeat; requests on the slow path report database errors.
      this.reloadSnapshot().catch(() => {});
    }
    return this.assignmentCache.get(nodeId) ?? EMPTY_ASSIGNMENTS;
  }

  /**
   * Long-poll: the node's assignments as soon as they differ from version `after`, or at `waitMs`. Local changes wake
   * the wait at once; a periodic re-check (the snapshot refresh) catches changes made by other replicas.
   */
  async waitForChange(nodeId: string, after: string | undefined, waitMs: number, signal?: AbortSignal): Promise<{ assignments: Assignment[]; version: string; challenge?: ChallengeOffer; probe?: ProbeOffer }> {
    const deadline = Date.now() + waitMs;
    const recheckMs = Math.max(250, this.options.assignmentCacheMs);
    for (;;) {
      const current = await this.forNode(nodeId);
      const version = versionOf(current);
      const left = deadline - Date.now();
      if (version !== after || left <= 0 || signal?.aborted) return { assignments: current.assignments, version, ...(current.challenge ? { challenge: current.challenge } : {}), ...(current.probe ? { probe: current.probe } : {}) };
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

  /** Mark nodes whose assignments this replica changed: re-read on next use, and their long-polls woken now. */
  invalidate(nodeIds: Iterable<string>): void {
    for (const id of nodeIds) {
      this.dirtyNodes.add(id);
      for (const listener of this.changeListeners) listener.add(id);
      const waiters = this.assignmentWaiters.get(id);
      if (waiters) for (const wake of [...waiters]) wake();
    }
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
      .select(['a.node_id', 'l.id', 'l.state', 'l.image', 'l.command', 'l.env', 'l.ports', 'l.read_only_root', 'l.run_as', 'l.egress', 'l.ends_at', 'a.gpu_uuid'])
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
          // Only when set: the assignments (and their version hash) of every other lease stay byte-for-byte the same.
          ...(Number(row.read_only_root) === 1 ? { readOnlyRoot: true } : {}),
          ...(row.run_as ? { user: parseRunAs(row.run_as) } : {}),
          ...(Number(row.egress) === 0 ? { egress: false } : {}),
          endsAt: new Date(Number(row.ends_at)).toISOString(),
        };
        byLease.set(key, a);
        entry.assignments.push(a);
        entry.states.set(row.id, row.state);
      }
      a.gpuUuids.push(row.gpu_uuid);
    }
    for (const [nodeId, challenge] of await openChallenges(this.db, nodeIds)) {
      let entry = result.get(nodeId);
      if (!entry) {
        entry = { loadedAt: now, assignments: [], states: new Map() };
        result.set(nodeId, entry);
      }
      entry.challenge = challenge;
    }
    for (const [nodeId, probe] of await openProbes(this.db, nodeIds)) {
      let entry = result.get(nodeId);
      if (!entry) {
        entry = { loadedAt: now, assignments: [], states: new Map() };
        result.set(nodeId, entry);
      }
      entry.probe = probe;
    }
    return result;
  }
}
