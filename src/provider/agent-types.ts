// The provider agent's public shapes: the API it needs, the events it emits, its options and its summary.
import type { ChallengeKernelOptions } from './challenge-kernel.js';
import type { KernelImageStep } from './challenge-kernel-image.js';
import type { ChallengeAnswer, ChallengeCommit, ChallengeResult, ChallengeSamples, ProbeAnswer, ProbeResult } from '../api/schemas/provider-trust.js';
import type { AssignmentsResponse, HeartbeatRequest, Node, RegisterNodeRequest, UploadLogsRequest, HeartbeatResponse } from '../api/schemas/nodes.js';
import type { ContainerRuntime, PullProgress } from '../docker/runtime.js';
import type { ReconcileLimits } from '../domain/reconcile.js';
import type { SigningKeypair } from '../api/signing.js';
import type { RelayLinkEvent } from './relay-link.js';
import type { TelemetrySource } from './telemetry.js';
import type { GpuVerification } from './verify.js';

/** The part of the coordinator API client (src/api/client.ts) the agent uses. */
export interface ProviderApi {
  registerNode(body: RegisterNodeRequest, options?: { signal?: AbortSignal }): Promise<Node>;
  heartbeat(nodeId: string, body: HeartbeatRequest, options?: { signal?: AbortSignal }): Promise<HeartbeatResponse>;
  uploadLogs(nodeId: string, leaseId: string, body: UploadLogsRequest, options?: { signal?: AbortSignal }): Promise<unknown>;
  /** Long-poll for assignment changes (absent: changes arrive with the next heartbeat only). */
  assignments?(nodeId: string, query: { after?: string; waitMs?: number }, options?: { signal?: AbortSignal }): Promise<AssignmentsResponse>;
  /** GPU challenges (absent: challenges are not answered and expire). */
  commitChallenge?(nodeId: string, challengeId: string, body: ChallengeCommit, options?: { signal?: AbortSignal }): Promise<ChallengeSamples>;
  answerChallenge?(nodeId: string, challengeId: string, body: ChallengeAnswer, options?: { signal?: AbortSignal }): Promise<ChallengeResult>;
  /** Liveness probes of running leases (absent: probes expire and accrual stops until one passes). */
  answerProbe?(nodeId: string, probeId: string, body: ProbeAnswer, options?: { signal?: AbortSignal }): Promise<ProbeResult>;
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
  | { type: 'network-removed'; network: string }
  | { type: 'logs-shipped'; leaseId: string; bytes: number }
  | { type: 'warning'; message: string; code?: string }
  | { type: 'verification'; results: GpuVerification[] }
  | { type: 'challenge'; id: string; state: 'started'; kind: 'gpu' | 'cpu-stand-in'; gpus: number }
  | { type: 'challenge'; id: string; state: 'passed' | 'failed' | 'expired' | 'issued' | 'committed' | 'cancelled' | 'error'; ms: number; detail?: string }
  | ({ type: 'kernel-image' } & KernelImageStep)
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
  /**
   * Keep a relay link to the coordinator (src/provider/relay-link.ts) so renters can exec into and forward ports of this
   * node's lease containers; the owner's keypair signs the link. Absent: no relay.
   */
  relay?: { keypair: SigningKeypair; onEvent?: (event: RelayLinkEvent) => void };
  /** How real GPUs answer coordinator challenges (src/provider/challenge-kernel.ts); absent: their challenges expire. */
  challengeKernel?: ChallengeKernelOptions;
}

export interface AgentSummary {
  nodeId: string | null;
  heartbeats: number;
  leftRunning: string[];
  stoppedLeases: string[];
}
