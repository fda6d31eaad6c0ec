// The heartbeat loop: each tick reads the node's containers, reports them with telemetry and logs, takes the assignments
// from the reply and hands the reconciler's plan to the converger. Backs off while the coordinator fails.
import type { HeartbeatRequest, HeartbeatResponse, Node } from '../api/schemas/nodes.js';
import type { ContainerRuntime, ManagedContainer } from '../docker/runtime.js';
import { reconcile, staleNetworks, type DesiredAssignment, type LeaseReport, type ReconcileLimits } from '../domain/reconcile.js';
import { writeAgentState } from './data-dir.js';
import { errorCode, errorText, httpStatus, type AgentSession } from './agent-session.js';
import type { AgentSummary, ProviderApi } from './agent-types.js';
import type { ChallengeResponder } from './challenge.js';
import type { ProbeResponder } from './probe.js';
import type { Converger } from './converge.js';
import type { LeaseLogs } from './lease-logs.js';
import type { TelemetrySource } from './telemetry.js';

export interface HeartbeatLoopInput {
  api: ProviderApi;
  nodeId: string;
  runtime: ContainerRuntime;
  telemetry: TelemetrySource;
  dataDir: string;
  intervalMs: number;
  shipLogs: boolean;
  /** What the reconciler needs besides the assignments and the containers. */
  limits: { sharedGpuUuids: string[]; simulated: boolean; limits: ReconcileLimits };
  converger: Converger;
  logs: LeaseLogs;
  summary: AgentSummary;
  /** Registers again (the coordinator forgot the node). */
  register(): Promise<Node | undefined>;
  /** Takes the GPU challenge a reply carries (answered in the background). */
  challenges?: ChallengeResponder;
  /** Answers the liveness probes a reply carries. */
  probes?: ProbeResponder;
}

export interface HeartbeatLoop {
  /** Ticks until `session.loopSignal` aborts or `until()` says so after a tick. */
  run(until: () => boolean): Promise<void>;
  /** Running lease containers at the last tick (-1: unknown). */
  readonly runningCount: number;
}

/** Lease networks left behind are swept on the first tick and every this many ticks after (one docker call each time). */
const NETWORK_SWEEP_EVERY = 12;

export function createHeartbeatLoop(session: AgentSession, input: HeartbeatLoopInput): HeartbeatLoop {
  const { api, nodeId, runtime, converger, logs, summary } = input;
  const { emit, now } = session;
  const { inFlight, failures } = converger;
  const limitsInput = { nodeId, ...input.limits };
  const seenExited = new Set<string>();
  let desired: DesiredAssignment[] = [];
  let runningCount = -1;
  let consecutiveFailures = 0;
  let announced = new Set<string>();
  let ticks = 0;

  /** Removes lease networks without a container (listed before the containers, so a network created since is never taken). */
  async function sweepNetworks(networks: Awaited<ReturnType<ContainerRuntime['listManagedNetworks']>>, actual: ManagedContainer[]): Promise<void> {
    for (const name of staleNetworks(networks, actual, new Set(inFlight.keys()))) {
      try {
        await runtime.removeNetwork(name);
        emit({ type: 'network-removed', network: name });
      } catch (error) {
        emit({ type: 'warning', message: `Cannot remove network ${name}: ${errorText(error)}`, code: errorCode(error) });
      }
    }
  }

  async function tick(): Promise<void> {
    let actual: ManagedContainer[] | undefined;
    const networks = ticks++ % NETWORK_SWEEP_EVERY === 0 ? await runtime.listManagedNetworks().catch(() => undefined) : undefined;
    try {
      actual = await runtime.listManaged();
    } catch (error) {
      emit({ type: 'warning', message: `Cannot list containers: ${errorText(error)}`, code: errorCode(error) });
    }
    runningCount = actual ? actual.filter((c) => c.running).length : -1;
    if (networks && actual) await sweepNetworks(networks, actual);
    const settled = (actual ?? []).filter((c) => !inFlight.has(c.leaseId));
    for (const container of settled) {
      if ((container.state === 'exited' || container.state === 'dead') && !seenExited.has(container.id)) {
        seenExited.add(container.id);
        emit({ type: 'container-exited', leaseId: container.leaseId, containerId: container.id, exitCode: container.exitCode, oomKilled: container.oomKilled });
      }
    }

    // Reports describe the state against what the coordinator last asked for.
    const reports: LeaseReport[] = actual
      ? reconcile({ ...limitsInput, desired, actual: settled, failures, draining: session.draining, now: now() }).reports.filter((r) => !inFlight.has(r.leaseId))
      : [];
    for (const [leaseId, entry] of inFlight) {
      if (entry.phase === 'pulling' || entry.phase === 'starting') reports.push({ leaseId, state: entry.phase });
    }

    // Logs: leases the coordinator still assigns ride on the heartbeat; the others are uploaded separately.
    const assigned = new Set(desired.map((d) => d.leaseId));
    const { heartbeatBatches, uploadBatches } = actual && input.shipLogs ? await logs.gather(settled, assigned) : { heartbeatBatches: [], uploadBatches: [] };

    const busy = new Set<string>();
    for (const d of desired) if (settled.some((c) => c.leaseId === d.leaseId && c.running)) d.gpuUuids.forEach((u) => busy.add(u));
    const gpus = await input.telemetry(busy);
    const { pendingVerification } = session;
    const body: HeartbeatRequest = {
      gpus,
      containers: reports.map((r) => ({ leaseId: r.leaseId, state: r.state, ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}), ...(r.message ? { message: r.message.slice(0, 1000) } : {}) })),
      ...(heartbeatBatches.length > 0 ? { logs: heartbeatBatches.flatMap((b) => b.chunks.map((c) => ({ leaseId: b.leaseId, ...c }))) } : {}),
      draining: session.draining,
      ...(pendingVerification ? { verification: pendingVerification } : {}),
    };
    const sentVerification = pendingVerification;

    const sentAt = now();
    let response: HeartbeatResponse;
    try {
      response = await api.heartbeat(nodeId, body, { signal: session.loopSignal });
    } catch (error) {
      if (session.loopSignal.aborted) return;
      consecutiveFailures += 1;
      emit({ type: 'heartbeat-failed', error: errorText(error), code: errorCode(error), consecutive: consecutiveFailures });
      if (httpStatus(error) === 404) {
        // The coordinator forgot this node (new database): register again; the same machine id keeps it one node.
        const again = await input.register().catch(() => undefined);
        if (again && again.id !== nodeId) {
          emit({ type: 'warning', message: `The coordinator registered this machine as a new node ${again.id}; restart the agent to use it.` });
        }
      }
      return;
    }
    consecutiveFailures = 0;
    summary.heartbeats += 1;
    if (session.pendingVerification === sentVerification) session.pendingVerification = undefined;
    if (response.version) session.version = response.version;
    for (const batch of heartbeatBatches) logs.accept(batch);
    for (const { batch } of uploadBatches) {
      try {
        await api.uploadLogs(nodeId, batch.leaseId, { chunks: batch.chunks }, { signal: session.loopSignal });
        logs.accept(batch);
      } catch (error) {
        if (session.loopSignal.aborted) return;
        emit({ type: 'warning', message: `Cannot upload logs of lease ${batch.leaseId}: ${errorText(error)}`, code: errorCode(error) });
      }
    }

    if (response.challenge) input.challenges?.offer(response.challenge);
    if (response.probe) input.probes?.offer(response.probe);
    desired = response.assignments;
    const desiredIds = new Set(desired.map((d) => d.leaseId));
    for (const leaseId of Object.keys(failures)) if (!desiredIds.has(leaseId)) delete failures[leaseId];
    for (const assignment of desired) {
      if (!announced.has(assignment.leaseId)) emit({ type: 'assignment', leaseId: assignment.leaseId, image: assignment.image, gpus: assignment.gpuUuids.length });
    }
    announced = desiredIds;
    const running = settled.filter((c) => c.running).length;
    emit({ type: 'heartbeat', assignments: desired.length, running, latencyMs: now() - sentAt });

    if (!actual || session.loopSignal.aborted) return;
    const plan = reconcile({ ...limitsInput, desired, actual: settled, failures, draining: session.draining, now: now() });
    for (const action of plan.actions) if (!inFlight.has(action.leaseId)) converger.launch(action);
  }

  async function run(until: () => boolean): Promise<void> {
    while (!session.loopSignal.aborted) {
      const started = now();
      await tick();
      if (session.stateDirty) {
        session.stateDirty = false;
        await writeAgentState(input.dataDir, session.state).catch((error) => emit({ type: 'warning', message: `Cannot save agent state: ${errorText(error)}` }));
      }
      if (session.loopSignal.aborted || until()) break;
      const backoff = consecutiveFailures > 0 ? Math.min(30_000, input.intervalMs * 2 ** Math.min(consecutiveFailures - 1, 3)) : input.intervalMs;
      await session.sleeper.sleep(Math.max(0, backoff - (now() - started)));
    }
  }

  return {
    run,
    get runningCount() {
      return runningCount;
    },
  };
}
