// Per-GPU telemetry for heartbeats: nvidia-smi readings for real GPUs, plainly synthetic values for simulated ones.
import { queryNvidiaSmi } from '../gpu/nvidia-smi.js';

export interface GpuTelemetry {
  uuid: string;
  utilization?: number;
  memoryUsedMb?: number;
  temperatureC?: number;
  powerW?: number;
}

export type TelemetrySource = (busyUuids: ReadonlySet<string>) => Promise<GpuTelemetry[]>;

const defined = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined)) as T;

/** Real GPUs: one nvidia-smi query per heartbeat, restricted to the shared GPUs. A failed query reports nothing rather than stopping the agent. */
export function nvidiaTelemetry(sharedUuids: readonly string[], onError?: (error: Error) => void): TelemetrySource {
  const shared = new Set(sharedUuids);
  // The query fields this driver takes are settled by the first query; later ones skip asking it again.
  let fields: readonly string[] | undefined;
  return async () => {
    try {
      const result = await queryNvidiaSmi({ timeoutMs: 10_000, readingsOnly: true, fields });
      if (result.status !== 'ok') return [];
      fields = result.fields;
      return result.gpus
        .filter((gpu) => shared.has(gpu.uuid))
        .map((gpu) =>
          defined({
            uuid: gpu.uuid,
            utilization: gpu.utilizationGpu === null ? undefined : Math.min(100, Math.max(0, gpu.utilizationGpu)),
            memoryUsedMb: gpu.memoryUsedMb ?? undefined,
            temperatureC: gpu.temperatureC ?? undefined,
            powerW: gpu.powerW === null ? undefined : Math.max(0, gpu.powerW),
          }),
        );
    } catch (error) {
      onError?.(error as Error);
      return [];
    }
  };
}

/** Simulated GPUs: busy (a lease container runs on it) reads 100 %, idle 0 %; nothing pretends to be a measurement. */
export function simulatedTelemetry(uuids: readonly string[]): TelemetrySource {
  return async (busy) =>
    uuids.map((uuid) => (busy.has(uuid) ? { uuid, utilization: 100, memoryUsedMb: 0, temperatureC: 70, powerW: 300 } : { uuid, utilization: 0, memoryUsedMb: 0, temperatureC: 35, powerW: 30 }));
}
