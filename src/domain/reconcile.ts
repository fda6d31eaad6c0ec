// The provider agent's reconciler: desired assignments + the node's actual managed containers → the actions that converge them. Pure.
import type { ContainerNetwork, ContainerRunSpec, ContainerUlimits } from './docker-args.js';
import { workloadProblems } from './workload.js';

/** One lease the coordinator wants running on this node (the heartbeat reply's assignment). */
export interface DesiredAssignment {
  leaseId: string;
  image: string;
  command?: string[];
  env: Record<string, string>;
  ports: number[];
  gpuUuids: string[];
  memoryBytes?: number;
  cpus?: number;
  /** The renter asked for a read-only root filesystem (with a writable /tmp tmpfs). */
  readOnlyRoot?: boolean;
  /** Run as this non-root user instead of the image's default (root in most ML images). */
  user?: { uid: number; gid: number };
  /** False: the lease asked for no egress (no network without ports, an internal network with them). Default true. */
  egress?: boolean;
  endsAt: string;
}

export type ActualState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead' | 'unknown';

/** One container carrying this node's iocli labels, as the runtime reports it. */
export interface ActualContainer {
  id: string;
  leaseId: string;
  state: ActualState;
  running: boolean;
  exitCode: number | null;
  oomKilled?: boolean;
  /** ISO time; the newest of several duplicates is kept. */
  createdAt?: string | null;
}

/** What the heartbeat tells the coordinator about one lease (the wire's container states). */
export type ReportedState = 'pending' | 'pulling' | 'starting' | 'running' | 'exited' | 'failed' | 'stopped';

export interface LeaseReport {
  leaseId: string;
  state: ReportedState;
  exitCode?: number | null;
  message?: string;
}

/** A start the agent tried and that failed (image pull, docker run); the agent keeps these between rounds. */
export interface StartFailure {
  attempts: number;
  lastError: string;
  /** Unix ms before which no new attempt is made. */
  retryAfter: number;
}

export interface ReconcileLimits {
  /** Memory per leased GPU, used when an assignment names no memory limit (the node's RAM split over its shared GPUs). */
  memoryBytesPerGpu: number;
  /** CPUs per leased GPU, used when an assignment names no CPU limit. */
  cpusPerGpu: number;
  pidsLimit: number;
  /** Every container read-only, whatever the lease asks; a lease can make its own read-only, never the reverse. */
  readOnlyRoot: boolean;
  /** The ulimits this node's Docker daemon can grant (default LEASE_ULIMITS). */
  ulimits?: ContainerUlimits;
}

export interface ReconcileInput {
  nodeId: string;
  desired: readonly DesiredAssignment[];
  actual: readonly ActualContainer[];
  /** GPU UUIDs this node shares: an assignment naming any other GPU is refused. */
  sharedGpuUuids: readonly string[];
  /** Simulated GPUs: containers run without --gpus at all. */
  simulated: boolean;
  limits: ReconcileLimits;
  /** Failed starts by lease id. */
  failures?: Readonly<Record<string, StartFailure>>;
  /** Give up on a lease after this many failed starts (reported as failed). */
  maxStartAttempts?: number;
  /** Draining: nothing new starts; what runs keeps running. */
  draining?: boolean;
  /** Unix ms. */
  now: number;
}

export type ReconcileAction =
  | { kind: 'start'; leaseId: string; spec: ContainerRunSpec }
  | { kind: 'stop'; leaseId: string; containerId: string; reason: 'unassigned' }
  | { kind: 'remove'; leaseId: string; containerId: string; reason: 'unassigned' | 'duplicate' | 'never-started' };

export interface ReconcilePlan {
  /** In execution order: stops and removes first (they free names and GPUs), then starts. */
  actions: ReconcileAction[];
  /** One per assigned lease, plus the final state of containers being stopped or removed. */
  reports: LeaseReport[];
}

export const DEFAULT_MAX_START_ATTEMPTS = 3;

const NAME_UNSAFE = /[^a-zA-Z0-9_.-]+/g;

/**
 * The container name for a lease on a node. The node part keeps two agents on one host (tests, multi-node leases)
 * from colliding on docker's global name space.
 */
export function containerNameFor(leaseId: string, nodeId: string): string {
  const lease = leaseId.replace(NAME_UNSAFE, '-').slice(0, 80);
  const node = nodeId.replace(NAME_UNSAFE, '-').slice(0, 40);
  return `iocli-${lease}-${node}`.replace(/-+$/, '');
}

/**
 * The run spec for an assignment: the node's limits where the lease names none, the lease's own network (no network
 * at all when it has no ports and wants no egress), a read-only root when the lease or the node asks for one.
 */
export function runSpecFor(assignment: DesiredAssignment, input: Pick<ReconcileInput, 'nodeId' | 'simulated' | 'limits'>): ContainerRunSpec {
  const egress = assignment.egress !== false;
  const network: ContainerNetwork = assignment.ports.length > 0 || egress ? 'lease' : 'none';
  const gpus = Math.max(1, assignment.gpuUuids.length);
  return {
    leaseId: assignment.leaseId,
    nodeId: input.nodeId,
    name: containerNameFor(assignment.leaseId, input.nodeId),
    image: assignment.image,
    ...(assignment.command && assignment.command.length > 0 ? { command: [...assignment.command] } : {}),
    env: { ...assignment.env },
    ports: [...assignment.ports],
    gpuUuids: input.simulated ? [] : [...assignment.gpuUuids],
    memoryBytes: assignment.memoryBytes ?? Math.floor(input.limits.memoryBytesPerGpu * gpus),
    cpus: assignment.cpus ?? Math.max(0.1, Math.round(input.limits.cpusPerGpu * gpus * 100) / 100),
    pidsLimit: input.limits.pidsLimit,
    readOnlyRoot: assignment.readOnlyRoot === true || input.limits.readOnlyRoot,
    network,
    ...(network === 'lease' ? { egress } : {}),
    ...(assignment.user ? { user: { ...assignment.user } } : {}),
    ...(input.limits.ulimits ? { ulimits: { ...input.limits.ulimits } } : {}),
  };
}

function isLive(container: ActualContainer): boolean {
  return container.running || container.state === 'running' || container.state === 'restarting' || container.state === 'paused';
}

function isFinished(container: ActualContainer): boolean {
  return container.state === 'exited' || container.state === 'dead';
}

/** Prefers a live container, then the newest; the rest of a lease's containers are duplicates. */
function pickKept(containers: readonly ActualContainer[]): ActualContainer {
  return [...containers].sort((a, b) => {
    const live = Number(isLive(b)) - Number(isLive(a));
    if (live !== 0) return live;
    return (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || a.id.localeCompare(b.id);
  })[0]!;
}

function exitMessage(container: ActualContainer): string | undefined {
  if (container.oomKilled) return 'killed: out of memory (the lease memory limit)';
  return undefined;
}

/**
 * Decide how to converge. Containers are grouped by lease id; the caller passes only containers the runtime listed for
 * this node, so nothing else can appear in an action. An exited container of an assigned lease is reported, not restarted
 * (restart policy is off: a finished workload stays finished), and kept so its logs stay readable until the lease ends.
 */
export function reconcile(input: ReconcileInput): ReconcilePlan {
  const removals: ReconcileAction[] = [];
  const starts: ReconcileAction[] = [];
  const reports: LeaseReport[] = [];
  const shared = new Set(input.sharedGpuUuids);
  const maxAttempts = input.maxStartAttempts ?? DEFAULT_MAX_START_ATTEMPTS;

  const byLease = new Map<string, ActualContainer[]>();
  for (const container of input.actual) {
    const list = byLease.get(container.leaseId) ?? [];
    list.push(container);
    byLease.set(container.leaseId, list);
  }

  const desiredIds = new Set<string>();
  for (const assignment of input.desired) {
    if (desiredIds.has(assignment.leaseId)) continue;
    desiredIds.add(assignment.leaseId);
    const containers = byLease.get(assignment.leaseId) ?? [];
    let kept: ActualContainer | undefined;
    if (containers.length > 0) {
      kept = pickKept(containers);
      for (const other of containers) {
        if (other.id !== kept.id) removals.push({ kind: 'remove', leaseId: assignment.leaseId, containerId: other.id, reason: 'duplicate' });
      }
      // `docker run` creates then starts: an agent killed in between leaves a created container that never ran.
      if (kept.state === 'created') {
        removals.push({ kind: 'remove', leaseId: assignment.leaseId, containerId: kept.id, reason: 'never-started' });
        kept = undefined;
      }
    }

    if (kept) {
      if (isLive(kept)) reports.push({ leaseId: assignment.leaseId, state: 'running' });
      else if (isFinished(kept)) {
        const message = exitMessage(kept);
        reports.push({ leaseId: assignment.leaseId, state: 'exited', exitCode: kept.exitCode, ...(message ? { message } : {}) });
      } else reports.push({ leaseId: assignment.leaseId, state: 'starting' });
      continue;
    }

    const foreign = input.simulated ? [] : assignment.gpuUuids.filter((uuid) => !shared.has(uuid));
    if (foreign.length > 0) {
      reports.push({ leaseId: assignment.leaseId, state: 'failed', message: `GPU ${foreign.join(', ')} is not shared by this node` });
      continue;
    }
    const invalid = workloadProblems(assignment);
    if (invalid.length > 0) {
      reports.push({ leaseId: assignment.leaseId, state: 'failed', message: `invalid workload: ${invalid.map((p) => p.message).join(' ')}` });
      continue;
    }
    const failure = input.failures?.[assignment.leaseId];
    if (failure && failure.attempts >= maxAttempts) {
      reports.push({ leaseId: assignment.leaseId, state: 'failed', message: failure.lastError });
      continue;
    }
    if (input.draining) {
      reports.push({ leaseId: assignment.leaseId, state: 'pending', message: 'node is draining' });
      continue;
    }
    if (failure && input.now < failure.retryAfter) {
      reports.push({ leaseId: assignment.leaseId, state: 'pending', message: `retrying after: ${failure.lastError}` });
      continue;
    }
    starts.push({ kind: 'start', leaseId: assignment.leaseId, spec: runSpecFor(assignment, input) });
    reports.push({ leaseId: assignment.leaseId, state: 'starting' });
  }

  for (const [leaseId, containers] of byLease) {
    if (desiredIds.has(leaseId)) continue;
    for (const container of containers) {
      if (isLive(container)) {
        removals.push({ kind: 'stop', leaseId, containerId: container.id, reason: 'unassigned' });
        reports.push({ leaseId, state: 'stopped' });
      } else {
        removals.push({ kind: 'remove', leaseId, containerId: container.id, reason: 'unassigned' });
        if (isFinished(container)) reports.push({ leaseId, state: 'exited', exitCode: container.exitCode });
      }
    }
  }

  return { actions: [...removals, ...starts], reports: dedupeReports(reports) };
}

/** One report per lease: a lease with several containers keeps the first (the assigned lease's) verdict. */
function dedupeReports(reports: LeaseReport[]): LeaseReport[] {
  const seen = new Set<string>();
  return reports.filter((report) => {
    if (seen.has(report.leaseId)) return false;
    seen.add(report.leaseId);
    return true;
  });
}

/** Backoff for a failed start: 5 s, 20 s, 80 s … capped at 5 minutes. */
export function nextStartFailure(previous: StartFailure | undefined, error: string, now: number): StartFailure {
  const attempts = (previous?.attempts ?? 0) + 1;
  const delay = Math.min(5_000 * 4 ** (attempts - 1), 300_000);
  return { attempts, lastError: error.slice(0, 900), retryAfter: now + delay };
}

/** One Docker network carrying this node's iocli labels. */
export interface ActualNetwork {
  name: string;
  leaseId: string;
}

/**
 * Lease networks to remove: those whose lease has no container on this node and no start or removal in flight
 * (an agent killed between removing a container and its network, or a start that failed after creating it).
 */
export function staleNetworks(networks: readonly ActualNetwork[], actual: readonly ActualContainer[], busyLeaseIds: ReadonlySet<string>): string[] {
  const withContainer = new Set(actual.map((c) => c.leaseId));
  return networks.filter((n) => !withContainer.has(n.leaseId) && !busyLeaseIds.has(n.leaseId)).map((n) => n.name);
}
