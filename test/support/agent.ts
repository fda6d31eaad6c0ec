// An in-process provider agent with simulated GPUs and a real Docker runtime, for integration tests, alone or as a bench
// with its own coordinator.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiClient } from '../../src/api/client.js';
import type { RegisterNodeRequest } from '../../src/api/schemas/nodes.js';
import type { CoordinatorOptions } from '../../src/coordinator/server.js';
import { createDockerRuntime } from '../../src/docker/runtime.js';
import { runProviderAgent, type AgentEvent, type AgentSummary, type ProviderAgentOptions } from '../../src/provider/agent.js';
import { parseSimulateGpus, simulatedGpus } from '../../src/provider/options.js';
import { simulatedTelemetry } from '../../src/provider/telemetry.js';
import type { Keypair } from '../../src/wallet/keypair.js';
import { newKeypair, startTestCoordinator, type EngineName, type TestCoordinator } from './coordinator.js';
import { ensureTestImage, removeContainersByLabel } from './docker.js';
import { waitFor } from './wait.js';

export interface TestAgentOptions extends Partial<Omit<ProviderAgentOptions, 'api' | 'registration' | 'dataDir' | 'signal' | 'onEvent'>> {
  api: ProviderAgentOptions['api'];
  machineId: string;
  /** `--simulate-gpus` syntax, e.g. '2:RTX4090'. */
  simulate: string;
  dataDir: string;
  signal: AbortSignal;
  /** Every agent event is appended here. */
  events: AgentEvent[];
  registration?: Partial<RegisterNodeRequest>;
  /** Called with the node id once registered (the verification runtime's `<id>.verify` is skipped). */
  onNodeId?: (nodeId: string) => void;
}

/** Starts the agent with small limits and a fast heartbeat; any ProviderAgentOptions field can be overridden. */
export function startTestAgent({ api, machineId, simulate, dataDir, signal, events, registration, onNodeId, ...overrides }: TestAgentOptions): Promise<AgentSummary> {
  const gpus = simulatedGpus(machineId, parseSimulateGpus(simulate));
  return runProviderAgent({
    api,
    createRuntime: (id) => {
      if (!id.endsWith('.verify')) onNodeId?.(id);
      return createDockerRuntime({ nodeId: id });
    },
    registration: { machineId, gpus, cpu: { model: 'test', cores: 2 }, memoryMb: 4096, region: 'local', pricePerGpuHour: 1_000_000, simulated: true, ...registration },
    dataDir,
    telemetry: simulatedTelemetry(gpus.map((g) => g.uuid)),
    limits: { memoryBytesPerGpu: 64 * 1024 * 1024, cpusPerGpu: 0.5, pidsLimit: 128, readOnlyRoot: false },
    signal,
    heartbeatIntervalMs: 250,
    stopTimeoutSec: 0,
    onEvent: (event) => events.push(event),
    ...overrides,
  });
}

export interface AgentBenchOptions extends Omit<TestAgentOptions, 'api' | 'dataDir' | 'signal' | 'events' | 'onNodeId'> {
  /** The coordinator's engine (SQLite unless said). */
  engine?: EngineName;
  /**
   * The coordinator's options, used as given; by default a heartbeat grace of a minute (a heartbeat is never late
   * during a test) and no assignment cache (a new lease reaches the agent's next poll).
   */
  coordinator?: CoordinatorOptions;
  /** Prefix of the agent's temp data dir, so a leftover dir names its test. */
  dataDirPrefix: string;
  /** The agent's wallet (a test acting as the node's owner passes its own); a fresh one otherwise. */
  owner?: Keypair;
  /** The agent event the bench waits for before returning: 'registered' unless said (e.g. 'heartbeat'). */
  readyOn?: AgentEvent['type'];
}

/** A coordinator with one in-process agent registered to it; `close()` undoes all of it. */
export interface AgentBench {
  coordinator: TestCoordinator;
  /** The offline test image (busybox) for the leases' workloads. */
  image: string;
  /** The agent's wallet and the client the agent calls the coordinator with. */
  owner: Keypair;
  agentApi: ApiClient;
  nodeId: string;
  dataDir: string;
  /** Every agent event so far (the same array keeps filling). */
  events: AgentEvent[];
  /** The agent's run: resolves with its summary once it has stopped. */
  done: Promise<AgentSummary>;
  /** Aborts the agent: it drains as its options say (a test of the drain calls this itself). */
  stop(): void;
  /**
   * Stops the agent (waiting a bounded time for it), removes the node's containers and networks by its label, closes the
   * coordinator and deletes the agent's data dir. Safe after a failure and safe to call twice.
   */
  close(): Promise<void>;
}

/** How long close() waits for a stopped agent before removing its containers anyway (a drain may be waiting on a lease). */
const AGENT_EXIT_WAIT_MS = 10_000;

/**
 * Starts a coordinator and one test agent (simulated GPUs, real Docker) and waits until the agent is ready. If that
 * fails, what was started is cleaned up before the error is thrown, so an afterAll with `bench?.close()` is enough.
 */
export async function startAgentBench({
  engine = 'sqlite',
  coordinator: coordinatorOptions = { heartbeatGraceMs: 60_000, assignmentCacheMs: 0 },
  dataDirPrefix,
  owner = newKeypair(),
  readyOn = 'registered',
  ...agentOptions
}: AgentBenchOptions): Promise<AgentBench> {
  const image = await ensureTestImage();
  const coordinator = await startTestCoordinator(engine, coordinatorOptions);
  let dataDir: string;
  try {
    dataDir = await mkdtemp(join(tmpdir(), dataDirPrefix));
  } catch (error) {
    await coordinator.close();
    throw error;
  }
  const controller = new AbortController();
  const events: AgentEvent[] = [];
  let nodeId: string | undefined;
  let failure: unknown;
  const agentApi = coordinator.client(owner);
  const done = startTestAgent({ ...agentOptions, api: agentApi, dataDir, signal: controller.signal, events, onNodeId: (id) => (nodeId = id) });
  done.catch((error: unknown) => (failure = error));

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      try {
        controller.abort();
        await Promise.race([done.catch(() => {}), new Promise((resolve) => setTimeout(resolve, AGENT_EXIT_WAIT_MS))]);
        if (nodeId) await removeContainersByLabel(`iocli.node=${nodeId}`);
      } finally {
        await coordinator.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    })());

  try {
    // onNodeId runs right after the 'registered' event; wait for both so the label to clean up by is known.
    await waitFor(`the agent's first '${readyOn}' event`, async () => nodeId !== undefined && events.some((e) => e.type === readyOn), {
      giveUpIf: () => (failure === undefined ? undefined : `the agent failed: ${(failure as Error).message}`),
    });
  } catch (error) {
    await close();
    throw error;
  }
  return { coordinator, image, owner, agentApi, nodeId: nodeId!, dataDir, events, done, stop: () => controller.abort(), close };
}
