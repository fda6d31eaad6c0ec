// An in-process provider agent with simulated GPUs and a real Docker runtime, for integration tests.
import type { RegisterNodeRequest } from '../../src/api/schemas.js';
import { createDockerRuntime } from '../../src/docker/runtime.js';
import { runProviderAgent, type AgentEvent, type AgentSummary, type ProviderAgentOptions } from '../../src/provider/agent.js';
import { parseSimulateGpus, simulatedGpus } from '../../src/provider/options.js';
import { simulatedTelemetry } from '../../src/provider/telemetry.js';

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
