// The drain after `signal` aborts: tell the coordinator (no new placements), then either wait for the running leases to
// finish while heartbeating them, stop them (--stop-workloads), or leave them for the next start.
import type { ContainerRuntime, ManagedContainer } from '../docker/runtime.js';
import { writeAgentState } from './data-dir.js';
import { createSleeper, errorText, type AgentSession } from './agent-session.js';
import type { AgentSummary, ProviderApi } from './agent-types.js';
import type { AssignmentWatch } from './assignment-watch.js';
import type { Converger } from './converge.js';
import type { HeartbeatLoop } from './heartbeat-loop.js';
import type { LeaseLogs } from './lease-logs.js';

export interface DrainInput {
  api: ProviderApi;
  nodeId: string;
  runtime: ContainerRuntime;
  dataDir: string;
  stopTimeoutSec: number;
  stopWorkloadsOnExit?: boolean;
  drainTimeoutMs?: number;
  forceSignal?: AbortSignal;
  loop: HeartbeatLoop;
  watch: AssignmentWatch;
  converger: Converger;
  logs: LeaseLogs;
  /** The background GPU verification, awaited before the agent stops. */
  verification: Promise<void>;
  summary: AgentSummary;
}

/** Drains and winds the agent down; fills in the summary's leftRunning or stoppedLeases and emits 'stopped'. */
export async function drainAgent(session: AgentSession, input: DrainInput): Promise<void> {
  const { api, nodeId, runtime, summary } = input;
  const { emit } = session;
  session.draining = true;
  session.workController.abort();
  const drainTimeoutMs = input.stopWorkloadsOnExit ? 0 : (input.drainTimeoutMs ?? 0);
  const forceSignal = input.forceSignal ?? new AbortController().signal;
  const drainSignal = Number.isFinite(drainTimeoutMs) ? AbortSignal.any([forceSignal, AbortSignal.timeout(drainTimeoutMs + 5_000)]) : forceSignal;
  session.loopSignal = drainSignal;
  session.sleeper = createSleeper(drainSignal);
  const runningLeases = async () => (await runtime.listManaged().catch(() => [])).filter((c) => c.running).map((c) => c.leaseId);
  const waitingFor = drainTimeoutMs > 0 ? await runningLeases() : [];
  emit({ type: 'draining', stopWorkloads: input.stopWorkloadsOnExit === true, ...(waitingFor.length > 0 ? { waitingFor } : {}) });
  if (waitingFor.length > 0) {
    const drainStarted = session.now();
    await input.loop.run(() => (input.loop.runningCount === 0 && input.converger.inFlight.size === 0) || session.now() - drainStarted >= drainTimeoutMs);
  } else {
    // One heartbeat that says so, best effort: placement stops choosing this node before the grace period runs out.
    await api.heartbeat(nodeId, { gpus: [], containers: [], draining: true }, { signal: AbortSignal.any([forceSignal, AbortSignal.timeout(5_000)]) }).catch(() => {});
  }
  await input.watch.stop();
  await input.converger.settle();
  await input.verification;
  let remaining: ManagedContainer[] = [];
  try {
    remaining = await runtime.listManaged();
  } catch (error) {
    emit({ type: 'warning', message: `Cannot list containers while draining: ${errorText(error)}` });
  }
  if (input.stopWorkloadsOnExit) {
    for (const container of remaining) {
      try {
        if (container.running) await runtime.stop(container.id, input.stopTimeoutSec);
        await input.logs.uploadFinal(container);
        await runtime.remove(container.id);
        delete session.state.logCursors[container.leaseId];
        summary.stoppedLeases.push(container.leaseId);
        emit({ type: 'container-removed', leaseId: container.leaseId, containerId: container.id, reason: 'agent stopped with --stop-workloads' });
      } catch (error) {
        emit({ type: 'warning', message: `Cannot stop lease ${container.leaseId}: ${errorText(error)}` });
      }
    }
  } else {
    summary.leftRunning = remaining.filter((c) => c.running).map((c) => c.leaseId);
  }
  await writeAgentState(input.dataDir, session.state).catch(() => {});
  emit({ type: 'stopped', leftRunning: summary.leftRunning, stoppedLeases: summary.stoppedLeases });
}
