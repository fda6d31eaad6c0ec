// The provider agent: registers the node, heartbeats telemetry and container states, and converges the node's containers to
// the assignments each reply carries. Emits typed events; the command renders them. Pulls and stops never block heartbeats.
// The parts: registration.ts, heartbeat-loop.ts, assignment-watch.ts, converge.ts, lease-logs.ts, drain.ts, background-verify.ts.
import { readAgentState } from './data-dir.js';
import { createSleeper, type AgentSession } from './agent-session.js';
import type { AgentEvent, AgentSummary, ProviderAgentOptions } from './agent-types.js';
import { watchAssignments } from './assignment-watch.js';
import { verifyInBackground } from './background-verify.js';
import { createChallengeResponder } from './challenge.js';
import { createProbeResponder } from './probe.js';
import { adoptContainers, createConverger } from './converge.js';
import { drainAgent } from './drain.js';
import { createHeartbeatLoop } from './heartbeat-loop.js';
import { createLeaseLogs } from './lease-logs.js';
import { registerNode, rememberNode } from './registration.js';

export type { AgentEvent, AgentSummary, ProviderAgentOptions, ProviderApi } from './agent-types.js';

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
  const { signal, api } = options;
  const simulated = options.registration.simulated === true;
  const session: AgentSession = {
    emit,
    now: options.now ?? Date.now,
    state: await readAgentState(options.dataDir),
    stateDirty: false,
    sleeper: createSleeper(signal),
    loopSignal: signal,
    draining: false,
    version: undefined,
    pendingVerification: undefined,
    workController: new AbortController(),
  };
  const summary: AgentSummary = { nodeId: null, heartbeats: 0, leftRunning: [], stoppedLeases: [] };

  const register = () => registerNode(session, { api, registration: options.registration, signal });
  const node = await register();
  if (!node) return summary;
  const nodeId = node.id;
  summary.nodeId = nodeId;
  await rememberNode(session, node, { registration: options.registration, dataDir: options.dataDir, apiUrl: options.apiUrl });

  const runtime = options.createRuntime(nodeId);
  const relay = options.relay && options.apiUrl
    ? (await import('./relay-link.js')).startRelayLink({ apiUrl: options.apiUrl, nodeId, keypair: options.relay.keypair, signal, onEvent: options.relay.onEvent })
    : undefined;
  const verification = options.verify
    ? verifyInBackground(session, { nodeId, createRuntime: options.createRuntime, gpus: options.registration.gpus, simulated })
    : Promise.resolve();
  const stopTimeoutSec = options.stopTimeoutSec ?? 10;
  const logs = createLeaseLogs(session, { api, nodeId, runtime, shipLogs: options.shipLogs ?? true });
  const converger = createConverger(session, { runtime, stopTimeoutSec, logs });
  await adoptContainers(session, runtime);

  const challenges = createChallengeResponder(session, { api, nodeId, kernel: options.challengeKernel });
  const probes = createProbeResponder(session, { api, nodeId, runtime });
  const loop = createHeartbeatLoop(session, {
    api,
    nodeId,
    runtime,
    telemetry: options.telemetry,
    dataDir: options.dataDir,
    intervalMs: options.heartbeatIntervalMs ?? 5_000,
    shipLogs: options.shipLogs ?? true,
    limits: { sharedGpuUuids: options.registration.gpus.map((gpu) => gpu.uuid), simulated, limits: options.limits },
    converger,
    logs,
    summary,
    register,
    challenges,
    probes,
  });
  const watch = watchAssignments(session, { api, nodeId, longPollMs: options.longPollMs });
  await loop.run(() => false);

  await drainAgent(session, {
    api,
    nodeId,
    runtime,
    dataDir: options.dataDir,
    stopTimeoutSec,
    stopWorkloadsOnExit: options.stopWorkloadsOnExit,
    drainTimeoutMs: options.drainTimeoutMs,
    forceSignal: options.forceSignal,
    loop,
    watch,
    converger,
    logs,
    verification,
    summary,
  });
  await Promise.all([challenges.idle(), probes.idle()]);
  await relay?.close();
  return summary;
}
