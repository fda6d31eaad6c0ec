// One line of text per agent event, shared by the terminal rendering and the agent log file.
import type { AgentEvent } from './agent.js';

export interface EventLine {
  level: 'info' | 'warn' | 'error';
  text: string;
}

const short = (id: string) => id.slice(0, 12);

function bytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
  return `${n} B`;
}

/** Undefined for events too frequent to print (heartbeats, log shipping, most pull progress). */
export function describeAgentEvent(event: AgentEvent): EventLine | undefined {
  switch (event.type) {
    case 'registering':
      return event.attempt === 1 ? { level: 'info', text: `Registering machine ${event.machineId} with the coordinator…` } : undefined;
    case 'registered':
      return {
        level: 'info',
        text: `Registered as node ${event.nodeId} with ${event.gpus} GPU${event.gpus === 1 ? '' : 's'}${event.simulated ? ' (SIMULATED GPUs: development only, no real hardware)' : ''}`,
      };
    case 'adopted':
      return {
        level: 'info',
        text: `Re-adopted ${event.containers.length} container${event.containers.length === 1 ? '' : 's'} from a previous run: ${event.containers.map((c) => `${c.leaseId} (${c.state})`).join(', ')}`,
      };
    case 'heartbeat':
    case 'logs-shipped':
      return undefined;
    case 'heartbeat-failed':
      return { level: 'warn', text: `Heartbeat failed (${event.consecutive} in a row): ${event.error}` };
    case 'assignment':
      return { level: 'info', text: `Lease ${event.leaseId} assigned: ${event.image} on ${event.gpus} GPU${event.gpus === 1 ? '' : 's'}` };
    case 'pull-started':
      return { level: 'info', text: `Pulling ${event.image} for lease ${event.leaseId}…` };
    case 'pull-progress': {
      const p = event.progress;
      if (p.phase !== 'done') return undefined;
      return { level: 'info', text: `Pulled ${event.image}: ${p.layersDone}/${p.layersTotal} layers${p.bytesTotal ? `, ${bytes(p.bytesTotal)}` : ''}` };
    }
    case 'pull-finished':
      return { level: 'info', text: `Image ${event.image} ready in ${(event.ms / 1000).toFixed(1)} s` };
    case 'container-started':
      return { level: 'info', text: `Lease ${event.leaseId} running: container ${short(event.containerId)} (${event.image}), started in ${event.ms} ms` };
    case 'container-start-failed':
      return {
        level: 'error',
        text: `Lease ${event.leaseId} failed to start (attempt ${event.attempts}): ${event.error}${event.retryInMs > 0 ? `; retrying in ${Math.round(event.retryInMs / 1000)} s` : ''}`,
      };
    case 'container-exited':
      return {
        level: event.exitCode === 0 ? 'info' : 'warn',
        text: `Lease ${event.leaseId} container ${short(event.containerId)} exited with code ${event.exitCode ?? '?'}${event.oomKilled ? ' (out of memory)' : ''}`,
      };
    case 'container-stopped':
      return { level: 'info', text: `Lease ${event.leaseId} stopped: container ${short(event.containerId)}` };
    case 'container-removed':
      return { level: 'info', text: `Lease ${event.leaseId} container ${short(event.containerId)} removed (${event.reason})` };
    case 'network-removed':
      return { level: 'info', text: `Removed lease network ${event.network} (its container is gone)` };
    case 'warning':
      return { level: 'warn', text: event.message };
    case 'verification':
      return {
        level: event.results.some((r) => r.status === 'failed' || r.status === 'slow') ? 'warn' : 'info',
        text: `GPU verification: ${event.results
          .map((r) => `${r.uuid} ${r.status}${'tflops' in r ? ` (${r.tflops} TFLOPS FP16${r.expectedTflops ? ` of ${r.expectedTflops}` : ''})` : ''}${'error' in r ? `: ${r.error}` : ''}`)
          .join('; ')}`,
      };
    case 'challenge':
      if (event.state === 'started') return { level: 'info', text: `GPU challenge ${event.id}: answering for ${event.gpus} GPU${event.gpus === 1 ? '' : 's'}${event.kind === 'cpu-stand-in' ? ' (CPU stand-in for simulated GPUs)' : ''}…` };
      return { level: event.state === 'passed' || event.state === 'cancelled' ? 'info' : 'warn', text: `GPU challenge ${event.id}: ${event.state} in ${event.ms} ms${event.detail ? ` (${event.detail})` : ''}` };
    case 'kernel-image':
      switch (event.state) {
        case 'pulling':
          return { level: 'info', text: `Challenge kernel image ${event.image} is missing here: pulling it…` };
        case 'building':
          return { level: 'warn', text: `Could not pull the challenge kernel image ${event.image} (${event.pullError}): building it from ${event.context} (${event.command}); this takes minutes, the base image is large…` };
        case 'build-progress':
          return { level: 'info', text: `Building ${event.image}: ${event.line}` };
        case 'ready':
          return { level: 'info', text: `Challenge kernel image ${event.image} ${event.source} in ${(event.ms / 1000).toFixed(1)} s` };
      }
      return undefined;
    case 'draining':
      return {
        level: 'info',
        text: event.stopWorkloads
          ? 'Draining: no new work; stopping running workloads (--stop-workloads)…'
          : event.waitingFor?.length
            ? `Draining: no new work; heartbeating until lease${event.waitingFor.length === 1 ? '' : 's'} ${event.waitingFor.join(', ')} finish (Ctrl-C again to leave them running).`
            : 'Draining: no new work; running workloads keep running and are re-adopted on the next start.',
      };
    case 'stopped':
      return {
        level: 'info',
        text: `Agent stopped.${event.leftRunning.length ? ` Left running: ${event.leftRunning.join(', ')}.` : ''}${event.stoppedLeases.length ? ` Stopped: ${event.stoppedLeases.join(', ')}.` : ''}`,
      };
  }
}
