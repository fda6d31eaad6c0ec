// The provider agent: registers the node, heartbeats telemetry and container states, and converges the node's containers to
// the assignments each reply carries. Emits typed events; the command renders them. Pulls and stops never block heartbeats.
import type { AssignmentsResponse, HeartbeatRequest, Node, RegisterNodeRequest, UploadLogsRequest, HeartbeatResponse, Verification } from '../api/schemas.js';
import type { ContainerRuntime, ManagedContainer, PullProgress } from '../docker/runtime.js';
import {
  nextStartFailure,
  reconcile,
  type DesiredAssignment,
  type LeaseReport,
  type ReconcileAction,
  type ReconcileLimits,
  type StartFailure,
} from '../domain/reconcile.js';
import { UserError } from '../errors.js';
import { readAgentState, writeAgentState, type AgentState } from './data-dir.js';
import { collectContainerLogs, type LogBatch } from './log-shipper.js';
import type { TelemetrySource } from './telemetry.js';
import type { GpuVerification } from './verify.js';

/** The part of the coordinator API client (src/api/client.ts) the agent uses. */
export interface ProviderApi {
  registerNode(body: RegisterNodeRequest, options?: { signal?: AbortSignal }): Promise<Node>;
  heartbeat(nodeId: string, body: HeartbeatRequest, options?: { signal?: AbortSignal }): Promise<HeartbeatResponse>;
  uploadLogs(nodeId: string, leaseId: string, body: UploadLogsRequest, options?: { signal?: AbortSignal }): Promise<unknown>;
  /** Long-poll for assignment changes (absent: changes arrive with the next heartbeat only). */
  assignments?(nodeId: string, query: { after?: string; waitMs?: number }, options?: { signal?: AbortSignal }): Promise<AssignmentsResponse>;
}

export type AgentEvent =
  | { type: 'registering'; machineId: string; attempt: number }
  | { type: 'registered'; nodeId: string; machineId: string; gpus: number; simulated: boolean }
  | { type: 'adopted'; containers: Array<{ leaseId: string; containerId: string; state: string }> }
  | { type: 'heartbeat'; assignments: number; running: number; latencyMs: number }
  | { type: 'heartbeat-failed'; error: string; code?: string; consecutive: number }
  | { type: 'assignment'; leaseId: string; image: string; gpus: number }
  | { type: 'pull-started'; leaseId: string; image: string }
  | { type: 'pull-progress'; leaseId: string; image: string; progress: PullProgress }
  | { type: 'pull-finished'; leaseId: string; image: string; ms: number }
  | { type: 'container-started'; leaseId: string; containerId: string; image: string; ms: number }
  | { type: 'container-start-failed'; leaseId: string; error: string; code?: string; attempts: number; retryInMs: number }
  | { type: 'container-exited'; leaseId: string; containerId: string; exitCode: number | null; oomKilled: boolean }
  | { type: 'container-stopped'; leaseId: string; containerId: string }
  | { type: 'container-removed'; leaseId: string; containerId: string; reason: string }
  | { type: 'logs-shipped'; leaseId: string; bytes: number }
  | { type: 'warning'; message: string; code?: string }
  | { type: 'verification'; results: GpuVerification[] }
  | { type: 'draining'; stopWorkloads: boolean; waitingFor?: string[] }
  | { type: 'stopped'; leftRunning: string[]; stoppedLeases: string[] };

export interface ProviderAgentOptions {
  api: ProviderApi;
  /** The runtime bound to the registered node id: it can only touch that node's labelled containers. */
  createRuntime(nodeId: string): ContainerRuntime;
  /** The node's specs, including its machine id. */
  registration: RegisterNodeRequest;
  dataDir: string;
  telemetry: TelemetrySource;
  limits: ReconcileLimits;
  /** Aborting it drains the agent: no new heartbeats or starts, running containers stay unless stopWorkloadsOnExit. */
  signal: AbortSignal;
  heartbeatIntervalMs?: number;
  /** Seconds a container gets between SIGTERM and SIGKILL. */
  stopTimeoutSec?: number;
  stopWorkloadsOnExit?: boolean;
  /**
   * After `signal` aborts (and without stopWorkloadsOnExit): how long to keep heartbeating, as draining, the containers
   * still running, so their leases finish and are paid. 0 (the default) leaves them running at once for the next start.
   */
  drainTimeoutMs?: number;
  /** Ends a drain early (a second Ctrl-C): running containers are left for the next start. */
  forceSignal?: AbortSignal;
  /** Long-poll wait per request (ms, ≤ 25 000); 0 turns the long-poll off. */
  longPollMs?: number;
  shipLogs?: boolean;
  onEvent?: (event: AgentEvent) => void;
  now?: () => number;
  /** Remembered in the data directory for `iocli provide status`. */
  apiUrl?: string;
  /**
   * Benchmark real GPUs once after registering (src/provider/verify.ts), in the background, in containers labelled for a
   * separate node id so the reconciler never sees them. Simulated GPUs report 'simulated' without running anything.
   */
  verify?: boolean;
}

export interface AgentSummary {
  nodeId: string | null;
  heartbeats: number;
  leftRunning: string[];
  stoppedLeases: string[];
}

interface InFlight {
  phase: 'pulling' | 'starting' | 'stopping' | 'removing';
  done: Promise<void>;
}

// The coordinator takes 1 MiB bodies and 256 log entries a heartbeat; logs above this wait for the next round.
const HEARTBEAT_LOG_BUDGET_CHARS = 384 * 1024;
const HEARTBEAT_LOG_BUDGET_ENTRIES = 200;

function errorCode(error: unknown): string | undefined {
  return error instanceof UserError ? error.code : undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function httpStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown })?.status;
  return typeof status === 'number' ? status : undefined;
}

/** Sleeps `ms`, or less when `wake` is called or `signal` aborts. */
function createSleeper(signal: AbortSignal): { sleep(ms: number): Promise<void>; wake(): void } {
  let wakeUp: (() => void) | undefined;
  let pendingWake = false;
  return {
    sleep(ms) {
      if (signal.aborted) return Promise.resolve();
      if (pendingWake) {
        pendingWake = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          wakeUp = undefined;
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener('abort', done, { once: true });
        wakeUp = done;
      });
    },
    wake() {
      if (wakeUp) wakeUp();
      else pendingWake = true;
    },
  };
}

/**
 * Runs the agent until `signal` aborts, then drains. Throws only for what cannot be retried: the coordinator refusing the
 * registration (e.g. simulated GPUs on a production coordinator) or an unusable data directory.
 */
export async function runProviderAgent(options: ProviderAgentOptions): Promise<AgentSummary> {
  const emit = (event: AgentEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // A renderer failure must not stop the agent.
    }
  };
  const now = options.now ?? Date.now;
  const interval = options.heartbeatIntervalMs ?? 5_000;
  const stopTimeout = options.stopTimeoutSec ?? 10;
  const shipLogs = options.shipLogs ?? true;
  const { signal, api } = options;
  const simulated = options.registration.simulated === true;
  const sharedGpuUuids = options.registration.gpus.map((gpu) => gpu.uuid);
  let sleeper = createSleeper(signal);
  // While draining, the loop runs on past `signal` until the workloads finish or `forceSignal` aborts.
  let loopSignal: AbortSignal = signal;
  let draining = false;
  let version: string | undefined;
  let pendingVerification: Verification | undefined;
  /** Running lease containers at the last tick (-1: unknown). */
  let runningCount = -1;
  // Work in flight (pulls, stops) is cancelled separately from the loop: a drain waits for stops, but aborts pulls.
  const workController = new AbortController();

  const state: AgentState = await readAgentState(options.dataDir);
  const summary: AgentSummary = { nodeId: null, heartbeats: 0, leftRunning: [], stoppedLeases: [] };

  // ---- register (retried while the coordinator is unreachable; refused registrations are the user's to fix)
  let node: Node | undefined;
  const register = async (): Promise<Node | undefined> => {
    for (let attempt = 1; !signal.aborted; attempt++) {
      emit({ type: 'registering', machineId: options.registration.machineId, attempt });
      try {
        return await api.registerNode(options.registration, { signal });
      } catch (error) {
        if (signal.aborted) return undefined;
        const status = httpStatus(error);
        if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) throw error;
        emit({ type: 'warning', message: `Registration failed (attempt ${attempt}): ${errorText(error)}`, code: errorCode(error) });
        await sleeper.sleep(Math.min(30_000, 1_000 * 2 ** Math.min(attempt - 1, 5)));
      }
    }
    return undefined;
  };
  node = await register();
  if (!node) return summary;
  const nodeId = node.id;
  summary.nodeId = nodeId;
  emit({ type: 'registered', nodeId, machineId: options.registration.machineId, gpus: node.gpus.length, simulated });
  state.nodeId = nodeId;
  state.owner = node.owner;
  state.node = {
    machineId: options.registration.machineId,
    gpus: node.gpus,
    simulated,
    region: node.region,
    pricePerGpuHour: node.pricePerGpuHour,
    ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
    registeredAt: new Date(now()).toISOString(),
  };
  await writeAgentState(options.dataDir, state);

  const runtime = options.createRuntime(nodeId);
  let stateDirty = false;
  let verification: Promise<void> = Promise.resolve();
  if (options.verify) {
    verification = (async () => {
      const { verifyGpus } = await import('./verify.js');
      const results = await verifyGpus({
        runtime: options.createRuntime(`${nodeId}.verify`),
        nodeId: `${nodeId}.verify`,
        gpus: options.registration.gpus,
        simulated,
        signal: workController.signal,
      });
      // Kept locally (provide status) and sent with the next heartbeat (the coordinator marks the node verified).
      state.verification = { at: new Date(now()).toISOString(), results };
      stateDirty = true;
      const { summarizeVerification } = await import('./verify.js');
      pendingVerification = summarizeVerification(results);
      emit({ type: 'verification', results });
    })().catch((error) => emit({ type: 'warning', message: `GPU verification failed: ${errorText(error)}` }));
  }
  const inFlight = new Map<string, InFlight>();
  const failures: Record<string, StartFailure> = {};
  let desired: DesiredAssignment[] = [];

  // ---- adoption: whatever this node's labelled containers are doing, they are ours again.
  try {
    const existing = await runtime.listManaged();
    if (existing.length > 0) {
      emit({ type: 'adopted', containers: existing.map((c) => ({ leaseId: c.leaseId, containerId: c.id, state: c.state })) });
    }
  } catch (error) {
    emit({ type: 'warning', message: `Cannot list containers: ${errorText(error)}`, code: errorCode(error) });
  }

  const limitsInput = { nodeId, sharedGpuUuids, simulated, limits: options.limits };
  const seenExited = new Set<string>();

  async function collectLogs(container: Pick<ManagedContainer, 'id' | 'leaseId'>): Promise<LogBatch | undefined> {
    if (!shipLogs) return undefined;
    try {
      return await collectContainerLogs(runtime, container, state.logCursors[container.leaseId]);
    } catch (error) {
      emit({ type: 'warning', message: `Cannot read logs of lease ${container.leaseId}: ${errorText(error)}`, code: errorCode(error) });
      return undefined;
    }
  }

  function acceptLogs(batch: LogBatch): void {
    state.logCursors[batch.leaseId] = batch.cursor;
    stateDirty = true;
    emit({ type: 'logs-shipped', leaseId: batch.leaseId, bytes: batch.bytes });
  }

  /** Ships what a container printed since the last round through the upload endpoint (leases the heartbeat no longer covers). */
  async function uploadFinalLogs(container: Pick<ManagedContainer, 'id' | 'leaseId'>): Promise<void> {
    for (let round = 0; round < 20; round++) {
      const batch = await collectLogs(container);
      if (!batch) return;
      try {
        await api.uploadLogs(nodeId, batch.leaseId, { chunks: batch.chunks });
        acceptLogs(batch);
      } catch (error) {
        emit({ type: 'warning', message: `Cannot upload logs of lease ${container.leaseId}: ${errorText(error)}`, code: errorCode(error) });
        return;
      }
    }
  }

  function track(leaseId: string, phase: InFlight['phase'], work: (entry: InFlight) => Promise<void>): void {
    const entry: InFlight = { phase, done: Promise.resolve() };
    entry.done = work(entry)
      .catch((error) => emit({ type: 'warning', message: `Lease ${leaseId}: ${errorText(error)}`, code: errorCode(error) }))
      .finally(() => {
        inFlight.delete(leaseId);
        // Report the outcome at once rather than a full interval later.
        sleeper.wake();
      });
    inFlight.set(leaseId, entry);
  }

  function launch(action: ReconcileAction): void {
    if (action.kind === 'start') {
      const { spec, leaseId } = action;
      track(leaseId, 'starting', async (entry) => {
        const started = now();
        try {
          if (!(await runtime.imageExists(spec.image))) {
            entry.phase = 'pulling';
            emit({ type: 'pull-started', leaseId, image: spec.image });
            const pullStart = now();
            await runtime.pull(spec.image, (progress) => emit({ type: 'pull-progress', leaseId, image: spec.image, progress }), workController.signal);
            emit({ type: 'pull-finished', leaseId, image: spec.image, ms: now() - pullStart });
            entry.phase = 'starting';
          }
          const containerId = await runtime.run(spec);
          delete failures[leaseId];
          emit({ type: 'container-started', leaseId, containerId, image: spec.image, ms: now() - started });
        } catch (error) {
          const failure = nextStartFailure(failures[leaseId], errorText(error), now());
          failures[leaseId] = failure;
          emit({ type: 'container-start-failed', leaseId, error: errorText(error), code: errorCode(error), attempts: failure.attempts, retryInMs: failure.retryAfter - now() });
        }
      });
    } else if (action.kind === 'stop') {
      track(action.leaseId, 'stopping', async () => {
        await runtime.stop(action.containerId, stopTimeout);
        emit({ type: 'container-stopped', leaseId: action.leaseId, containerId: action.containerId });
        await uploadFinalLogs({ id: action.containerId, leaseId: action.leaseId });
        await runtime.remove(action.containerId);
        delete state.logCursors[action.leaseId];
        stateDirty = true;
        emit({ type: 'container-removed', leaseId: action.leaseId, containerId: action.containerId, reason: action.reason });
      });
    } else {
      track(action.leaseId, 'removing', async () => {
        if (action.reason === 'unassigned') await uploadFinalLogs({ id: action.containerId, leaseId: action.leaseId });
        await runtime.remove(action.containerId);
        if (action.reason === 'unassigned') {
          delete state.logCursors[action.leaseId];
          stateDirty = true;
        }
        emit({ type: 'container-removed', leaseId: action.leaseId, containerId: action.containerId, reason: action.reason });
      });
    }
  }

  let consecutiveFailures = 0;
  let announced = new Set<string>();

  async function tick(): Promise<void> {
    let actual: ManagedContainer[] | undefined;
    try {
      actual = await runtime.listManaged();
    } catch (error) {
      emit({ type: 'warning', message: `Cannot list containers: ${errorText(error)}`, code: errorCode(error) });
    }
    runningCount = actual ? actual.filter((c) => c.running).length : -1;
    const settled = (actual ?? []).filter((c) => !inFlight.has(c.leaseId));
    for (const container of settled) {
      if ((container.state === 'exited' || container.state === 'dead') && !seenExited.has(container.id)) {
        seenExited.add(container.id);
        emit({ type: 'container-exited', leaseId: container.leaseId, containerId: container.id, exitCode: container.exitCode, oomKilled: container.oomKilled });
      }
    }

    // Reports describe the state against what the coordinator last asked for.
    const reports: LeaseReport[] = actual
      ? reconcile({ ...limitsInput, desired, actual: settled, failures, draining, now: now() }).reports.filter((r) => !inFlight.has(r.leaseId))
      : [];
    for (const [leaseId, entry] of inFlight) {
      if (entry.phase === 'pulling' || entry.phase === 'starting') reports.push({ leaseId, state: entry.phase });
    }

    // Logs: leases the coordinator still assigns ride on the heartbeat; the others are uploaded separately.
    const assigned = new Set(desired.map((d) => d.leaseId));
    const heartbeatBatches: LogBatch[] = [];
    const uploadBatches: Array<{ batch: LogBatch }> = [];
    if (actual && shipLogs) {
      let chars = 0;
      let entries = 0;
      for (const container of settled) {
        const batch = await collectLogs(container);
        if (!batch) continue;
        if (!assigned.has(container.leaseId)) uploadBatches.push({ batch });
        else if (chars + batch.bytes <= HEARTBEAT_LOG_BUDGET_CHARS && entries + batch.chunks.length <= HEARTBEAT_LOG_BUDGET_ENTRIES) {
          heartbeatBatches.push(batch);
          chars += batch.bytes;
          entries += batch.chunks.length;
        }
      }
    }

    const busy = new Set<string>();
    for (const d of desired) if (settled.some((c) => c.leaseId === d.leaseId && c.running)) d.gpuUuids.forEach((u) => busy.add(u));
    const gpus = await options.telemetry(busy);
    const body: HeartbeatRequest = {
      gpus,
      containers: reports.map((r) => ({ leaseId: r.leaseId, state: r.state, ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}), ...(r.message ? { message: r.message.slice(0, 1000) } : {}) })),
      ...(heartbeatBatches.length > 0 ? { logs: heartbeatBatches.flatMap((b) => b.chunks.map((c) => ({ leaseId: b.leaseId, stream: c.stream, data: c.data }))) } : {}),
      draining,
      ...(pendingVerification ? { verification: pendingVerification } : {}),
    };
    const sentVerification = pendingVerification;

    const sentAt = now();
    let response: HeartbeatResponse;
    try {
      response = await api.heartbeat(nodeId, body, { signal: loopSignal });
    } catch (error) {
      if (loopSignal.aborted) return;
      consecutiveFailures += 1;
      emit({ type: 'heartbeat-failed', error: errorText(error), code: errorCode(error), consecutive: consecutiveFailures });
      if (httpStatus(error) === 404) {
        // The coordinator forgot this node (new database): register again; the same machine id keeps it one node.
        const again = await register().catch(() => undefined);
        if (again && again.id !== nodeId) {
          emit({ type: 'warning', message: `The coordinator registered this machine as a new node ${again.id}; restart the agent to use it.` });
        }
      }
      return;
    }
    consecutiveFailures = 0;
    summary.heartbeats += 1;
    if (pendingVerification === sentVerification) pendingVerification = undefined;
    if (response.version) version = response.version;
    for (const batch of heartbeatBatches) acceptLogs(batch);
    for (const { batch } of uploadBatches) {
      try {
        await api.uploadLogs(nodeId, batch.leaseId, { chunks: batch.chunks }, { signal: loopSignal });
        acceptLogs(batch);
      } catch (error) {
        if (loopSignal.aborted) return;
        emit({ type: 'warning', message: `Cannot upload logs of lease ${batch.leaseId}: ${errorText(error)}`, code: errorCode(error) });
      }
    }

    desired = response.assignments;
    const desiredIds = new Set(desired.map((d) => d.leaseId));
    for (const leaseId of Object.keys(failures)) if (!desiredIds.has(leaseId)) delete failures[leaseId];
    for (const assignment of desired) {
      if (!announced.has(assignment.leaseId)) emit({ type: 'assignment', leaseId: assignment.leaseId, image: assignment.image, gpus: assignment.gpuUuids.length });
    }
    announced = desiredIds;
    const running = settled.filter((c) => c.running).length;
    emit({ type: 'heartbeat', assignments: desired.length, running, latencyMs: now() - sentAt });

    if (!actual || loopSignal.aborted) return;
    const plan = reconcile({ ...limitsInput, desired, actual: settled, failures, draining, now: now() });
    for (const action of plan.actions) if (!inFlight.has(action.leaseId)) launch(action);
  }

  // ---- long-poll: a change of assignments wakes the loop at once instead of a heartbeat interval later.
  const longPollMs = Math.min(25_000, options.longPollMs ?? 25_000);
  // It follows the loop: through a drain too (a renter stopping a lease there is noticed at once), until pollStop.
  const pollStop = new AbortController();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        pollStop.signal.removeEventListener('abort', done);
        resolve();
      }
      pollStop.signal.addEventListener('abort', done, { once: true });
    });
  const longPoll = (async () => {
    if (!api.assignments || longPollMs <= 0) return;
    let failuresInRow = 0;
    while (!pollStop.signal.aborted) {
      const current = loopSignal;
      if (current.aborted) {
        await pause(50);
        continue;
      }
      try {
        const answer = await api.assignments(nodeId, { after: version, waitMs: longPollMs }, { signal: AbortSignal.any([pollStop.signal, current]) });
        failuresInRow = 0;
        if (answer.version !== version) {
          version = answer.version;
          sleeper.wake();
        }
      } catch {
        if (pollStop.signal.aborted || current.aborted) continue;
        // The heartbeat loop reports coordinator trouble; this only backs off (an old coordinator answers 404 forever).
        failuresInRow += 1;
        await pause(Math.min(60_000, 1_000 * 2 ** Math.min(failuresInRow, 6)));
      }
    }
  })();

  const runLoop = async (until: () => boolean) => {
    while (!loopSignal.aborted) {
      const started = now();
      await tick();
      if (stateDirty) {
        stateDirty = false;
        await writeAgentState(options.dataDir, state).catch((error) => emit({ type: 'warning', message: `Cannot save agent state: ${errorText(error)}` }));
      }
      if (loopSignal.aborted || until()) break;
      const backoff = consecutiveFailures > 0 ? Math.min(30_000, interval * 2 ** Math.min(consecutiveFailures - 1, 3)) : interval;
      await sleeper.sleep(Math.max(0, backoff - (now() - started)));
    }
  };
  await runLoop(() => false);

  // ---- drain: tell the coordinator (no new placements), then either wait for the running leases to finish while
  // heartbeating them, stop them (--stop-workloads), or leave them for the next start.
  draining = true;
  workController.abort();
  const drainTimeoutMs = options.stopWorkloadsOnExit ? 0 : (options.drainTimeoutMs ?? 0);
  const forceSignal = options.forceSignal ?? new AbortController().signal;
  const drainSignal = Number.isFinite(drainTimeoutMs) ? AbortSignal.any([forceSignal, AbortSignal.timeout(drainTimeoutMs + 5_000)]) : forceSignal;
  loopSignal = drainSignal;
  sleeper = createSleeper(drainSignal);
  const runningLeases = async () => (await runtime.listManaged().catch(() => [])).filter((c) => c.running).map((c) => c.leaseId);
  const waitingFor = drainTimeoutMs > 0 ? await runningLeases() : [];
  emit({ type: 'draining', stopWorkloads: options.stopWorkloadsOnExit === true, ...(waitingFor.length > 0 ? { waitingFor } : {}) });
  if (waitingFor.length > 0) {
    const drainStarted = now();
    await runLoop(() => (runningCount === 0 && inFlight.size === 0) || now() - drainStarted >= drainTimeoutMs);
  } else {
    // One heartbeat that says so, best effort: placement stops choosing this node before the grace period runs out.
    await api.heartbeat(nodeId, { gpus: [], containers: [], draining: true }, { signal: AbortSignal.any([forceSignal, AbortSignal.timeout(5_000)]) }).catch(() => {});
  }
  pollStop.abort();
  await longPoll;
  await Promise.all([...inFlight.values()].map((entry) => entry.done));
  await verification;
  let remaining: ManagedContainer[] = [];
  try {
    remaining = await runtime.listManaged();
  } catch (error) {
    emit({ type: 'warning', message: `Cannot list containers while draining: ${errorText(error)}` });
  }
  if (options.stopWorkloadsOnExit) {
    for (const container of remaining) {
      try {
        if (container.running) await runtime.stop(container.id, stopTimeout);
        await uploadFinalLogs(container);
        await runtime.remove(container.id);
        delete state.logCursors[container.leaseId];
        summary.stoppedLeases.push(container.leaseId);
        emit({ type: 'container-removed', leaseId: container.leaseId, containerId: container.id, reason: 'agent stopped with --stop-workloads' });
      } catch (error) {
        emit({ type: 'warning', message: `Cannot stop lease ${container.leaseId}: ${errorText(error)}` });
      }
    }
  } else {
    summary.leftRunning = remaining.filter((c) => c.running).map((c) => c.leaseId);
  }
  await writeAgentState(options.dataDir, state).catch(() => {});
  emit({ type: 'stopped', leftRunning: summary.leftRunning, stoppedLeases: summary.stoppedLeases });
  return summary;
}
