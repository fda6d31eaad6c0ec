// Starting the provider agent for `iocli provide`: the data directory and machine id, the registration, the agent log, the
// one-agent-per-data-directory lock, telemetry, and where each agent event is written.
import { DEFAULT_CHALLENGE_KERNEL_IMAGE } from './challenge-kernel.js';
import { join } from 'node:path';
import type { RegisterNodeRequest } from '../api/schemas/nodes.js';
import type { SigningKeypair } from '../api/signing.js';
import { createDockerRuntime } from '../docker/runtime.js';
import { UsageError } from '../errors.js';
import { runProviderAgent, type AgentSummary, type ProviderApi } from './agent.js';
import { createAgentLogWriter } from './agent-log.js';
import { AGENT_LOG_FILE, ensureDataDir, resolveMachineId, runningAgentPid, writePidFile } from './data-dir.js';
import { describeAgentEvent } from './describe-event.js';
import { buildRegistration, limitsFor } from './node-spec.js';
import type { GpuSelection, SimulatedGpuRequest } from './options.js';
import type { ProviderPreflight } from './preflight.js';
import { nvidiaTelemetry, simulatedTelemetry } from './telemetry.js';

/** Creates the data directory and resolves this machine's stable id (`machineIdOverride`, from --machine-id, wins). */
export async function openAgentDataDir(input: { dataDir: string; owner: string; machineIdOverride?: string }): Promise<string> {
  await ensureDataDir(input.dataDir);
  return resolveMachineId({ dataDir: input.dataDir, owner: input.owner, override: input.machineIdOverride });
}

/** Renters on a loopback network reach workloads on 127.0.0.1; elsewhere the machine's name is the best guess. */
export async function defaultPublicHost(apiUrl: string): Promise<string> {
  const host = new URL(apiUrl).hostname;
  if (host === '127.0.0.1' || host === 'localhost' || host === '[::1]') return '127.0.0.1';
  const { hostname } = await import('node:os');
  return hostname();
}

export interface StartAgentInput {
  api: ProviderApi & { baseUrl: string };
  dataDir: string;
  machineId: string;
  /** Where renters reach --port workloads (default: defaultPublicHost of the coordinator URL). */
  publicHost?: string;
  preflight: ProviderPreflight;
  selection: GpuSelection;
  simulate?: SimulatedGpuRequest;
  region: string;
  pricePerGpuHour: number;
  signal: AbortSignal;
  intervalMs: number;
  stopTimeoutSec: number;
  stopWorkloads: boolean;
  drainTimeoutMs: number;
  shipLogs: boolean;
  verify: boolean;
  /** The challenge kernel image real GPUs answer coordinator challenges with (default DEFAULT_CHALLENGE_KERNEL_IMAGE). */
  challengeImage?: string;
  /** The owner's keypair: with it the agent keeps a relay link so renters reach their containers (lease exec, port-forward…). */
  keypair?: SigningKeypair;
  /** The terminal's progress and warning lines (stderr); every agent event also goes to the agent log. */
  report: { info(text: string): void; warn(text: string): void };
}

/** Runs the agent until `signal` aborts and it has drained. Refuses a data directory another live agent is using. */
export async function startProviderAgent(input: StartAgentInput): Promise<{ summary: AgentSummary; registration: RegisterNodeRequest }> {
  const { api, dataDir, report } = input;
  const registration = buildRegistration({
    publicHost: input.publicHost ?? (await defaultPublicHost(api.baseUrl)),
    preflight: input.preflight,
    machineId: input.machineId,
    selection: input.selection,
    simulate: input.simulate,
    region: input.region,
    pricePerGpuHour: input.pricePerGpuHour,
  });
  const log = createAgentLogWriter(join(dataDir, AGENT_LOG_FILE));
  const uuids = registration.gpus.map((g) => g.uuid);
  if (input.simulate) report.warn(`SIMULATED GPUs: ${uuids.length} × ${input.simulate.model.id}. Containers run without GPUs; only a --dev coordinator accepts this node.`);
  log.write('info', `Starting agent: ${registration.gpus.length} GPU(s)${input.simulate ? ' SIMULATED' : ''}, price ${registration.pricePerGpuHour} base units/GPU-hour, region ${registration.region}, coordinator ${api.baseUrl}`);
  report.info(`Data directory: ${dataDir} (agent log: ${join(dataDir, AGENT_LOG_FILE)}). Ctrl-C to stop.`);

  const other = await runningAgentPid(dataDir);
  if (other !== undefined && other !== process.pid) {
    throw new UsageError(`Another agent (pid ${other}) is already using ${dataDir}.`, {
      hint: 'Stop it first, or give this one its own --data-dir and --machine-id.',
    });
  }
  const removePidFile = await writePidFile(dataDir);
  const challengeImage = input.challengeImage ?? DEFAULT_CHALLENGE_KERNEL_IMAGE;
  // Before registering: registration brings a challenge whose deadline a first pull or build (minutes) would miss.
  if (!input.simulate) await prepareKernelImage(challengeImage, report, log, input.signal);
  const summary = await runProviderAgent({
    api,
    apiUrl: api.baseUrl,
    createRuntime: (nodeId) => createDockerRuntime({ nodeId }),
    registration,
    dataDir,
    telemetry: input.simulate ? simulatedTelemetry(uuids) : nvidiaTelemetry(uuids, (error) => log.write('warn', `GPU telemetry failed: ${error.message}`)),
    limits: limitsFor(input.preflight.host, registration.gpus.length),
    signal: input.signal,
    heartbeatIntervalMs: input.intervalMs,
    stopTimeoutSec: input.stopTimeoutSec,
    stopWorkloadsOnExit: input.stopWorkloads,
    drainTimeoutMs: input.drainTimeoutMs,
    shipLogs: input.shipLogs,
    verify: input.verify,
    // Simulated GPUs answer with the in-process CPU stand-in; real ones with the kernel image, one container per GPU.
    challengeKernel: input.simulate ? undefined : { image: challengeImage },
    relay: input.keypair
      ? {
          keypair: input.keypair,
          onEvent: (event) => {
            if (event.type === 'relay-connected') log.write('info', 'Relay link to the coordinator is up (renters can reach their containers).');
            else if (event.type === 'relay-disconnected') log.write('warn', `Relay link down (${event.reason}); retrying in ${event.retryInMs} ms.`);
            else log.write(event.outcome === 'opened' ? 'info' : 'warn', `Relay ${event.kind} stream for lease ${event.leaseId} ${event.outcome}${event.reason ? `: ${event.reason}` : ''}`);
          },
        }
      : undefined,
    onEvent: (event) => {
      const line = describeAgentEvent(event);
      if (!line) return;
      log.write(line.level, line.text);
      if (line.level === 'info') report.info(line.text);
      else report.warn(line.text);
    },
  }).finally(removePidFile);
  await log.flush();
  return { summary, registration };
}

/** Gets the challenge kernel image onto the rig (present, pulled, or built from the shipped Dockerfile); never fatal:
 * without it the agent still serves leases, and each challenge tries again. */
async function prepareKernelImage(image: string, report: { info(text: string): void; warn(text: string): void }, log: { write(level: 'info' | 'warn', text: string): void }, signal?: AbortSignal): Promise<void> {
  const { ensureKernelImage } = await import('./challenge-kernel-image.js');
  try {
    const result = await ensureKernelImage({
      image,
      signal,
      onStep: (step) => {
        if (step.state === 'pulling') report.info(`Pulling the challenge kernel image ${image} …`);
        else if (step.state === 'building') report.warn(`Could not pull ${image} (${step.pullError}); building it from ${step.context} (minutes on first use): ${step.command}`);
      },
    });
    if (result.source !== 'present') report.info(`Challenge kernel image ${image} ${result.source} in ${Math.round(result.ms / 1000)} s.`);
  } catch (error) {
    const text = `The challenge kernel image ${image} is not available: ${(error as Error).message} Until it is, this node's GPU challenges fail and it is not offered (iocli provide kernel-image prepares it).`;
    log.write('warn', text);
    report.warn(text);
  }
}
