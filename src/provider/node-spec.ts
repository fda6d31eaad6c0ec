// What the node registers with: the shared GPUs (real or simulated), host facts, versions, region and price. Pure.
import type { RegisterNodeRequest } from '../api/schemas/nodes.js';
import type { ReconcileLimits } from '../domain/reconcile.js';
import { UserError } from '../errors.js';
import { isWholeGpu, migDisableCommand } from '../gpu/inventory.js';
import { selectGpus, simulatedGpus, type GpuSelection, type SimulatedGpuRequest } from './options.js';
import type { ProviderPreflight } from './preflight.js';

export interface NodeSpecInput {
  preflight: ProviderPreflight;
  machineId: string;
  selection: GpuSelection;
  simulate?: SimulatedGpuRequest;
  region: string;
  pricePerGpuHour: number;
  /** Where renters reach this node's --port workloads. */
  publicHost?: string;
}

export function buildRegistration(input: NodeSpecInput): RegisterNodeRequest {
  const { preflight } = input;
  let gpus: RegisterNodeRequest['gpus'];
  if (input.simulate) {
    gpus = selectGpus(simulatedGpus(input.machineId, input.simulate), input.selection);
  } else {
    const detected = preflight.inventory?.gpus ?? [];
    const selected = selectGpus(detected, input.selection);
    // A MIG-enabled GPU is never offered as a whole GPU: `--gpus all` leaves it out, naming it is an error.
    const mig = selected.filter((gpu) => !isWholeGpu(gpu));
    if (mig.length > 0 && input.selection !== 'all') {
      throw new UserError(`GPU ${mig.map((g) => g.index).join(', ')} has MIG enabled and cannot be offered as a whole GPU.`, {
        code: 'MIG_ENABLED',
        hint: `Leave it out of --gpus, or turn MIG off first: ${migDisableCommand(mig.map((g) => g.index))}`,
      });
    }
    gpus = selected.filter(isWholeGpu).map((gpu) => ({
      index: gpu.index,
      uuid: gpu.uuid,
      model: gpu.model === 'unknown' ? gpu.name : gpu.model,
      vramMb: Math.max(1, Math.round(gpu.vramMb ?? 1)),
      migEnabled: false,
    }));
  }
  if (gpus.length === 0) {
    const mig = (preflight.inventory?.gpus ?? []).filter((gpu) => !isWholeGpu(gpu));
    throw new UserError('No GPU to share.', {
      code: 'NO_GPUS',
      hint: mig.length > 0 ? `Every GPU has MIG enabled, and iocli offers whole GPUs only: ${migDisableCommand(mig.map((g) => g.index))}` : 'Choose GPUs with --gpus all or --gpus 0,1 (see `iocli gpus`).',
    });
  }
  const diskGb = preflight.host.diskFreeBytes === null ? undefined : Math.floor(preflight.host.diskFreeBytes / 1024 ** 3);
  return {
    machineId: input.machineId,
    gpus,
    cpu: { model: preflight.host.cpu.model.slice(0, 200), cores: Math.max(1, preflight.host.cpu.cores) },
    memoryMb: Math.max(1, preflight.host.memoryMb),
    ...(diskGb !== undefined ? { diskGb } : {}),
    ...(preflight.inventory?.driver ? { driverVersion: preflight.inventory.driver } : {}),
    ...(preflight.inventory?.cuda ? { cudaVersion: preflight.inventory.cuda } : {}),
    ...(preflight.docker.serverVersion ? { dockerVersion: preflight.docker.serverVersion.slice(0, 64) } : {}),
    region: input.region,
    pricePerGpuHour: input.pricePerGpuHour,
    simulated: Boolean(input.simulate),
    ...(input.publicHost ? { publicHost: input.publicHost } : {}),
    ...(preflight.isolation ? { isolation: preflight.isolation } : {}),
  };
}

/**
 * Per-GPU container limits when a lease names none: the host's RAM and cores split over the shared GPUs, keeping back
 * a share for the host itself (the agent, Docker, the OS).
 */
export function limitsFor(host: { memoryMb: number; cpu: { cores: number } }, sharedGpus: number): ReconcileLimits {
  const gpus = Math.max(1, sharedGpus);
  const usableMb = Math.max(256, host.memoryMb * 0.85 - 1024);
  const usableCpus = Math.max(0.5, host.cpu.cores - 0.5);
  return {
    memoryBytesPerGpu: Math.max(64 * 1024 * 1024, Math.floor((usableMb / gpus) * 1024 * 1024)),
    cpusPerGpu: Math.max(0.1, Math.floor((usableCpus / gpus) * 100) / 100),
    pidsLimit: 4096,
    readOnlyRoot: false,
  };
}
