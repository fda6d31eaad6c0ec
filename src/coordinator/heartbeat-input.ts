// A fast check for the common heartbeat body (telemetry only): what it accepts, heartbeatSchema accepts with the same
// output; everything else goes to heartbeatSchema, so acceptance and error messages stay exactly zod's.
import type { HeartbeatInput } from '../api/schemas/nodes.js';
import { isPrintableLabel } from '../domain/text.js';

type Gpu = HeartbeatInput['gpus'][number];

const isFinite = Number.isFinite;

function plainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/** One telemetry entry rebuilt in schema order, or undefined when it is anything but a plainly valid one. */
function gpu(value: unknown): Gpu | undefined {
  if (!plainObject(value)) return undefined;
  let known = 0;
  const { uuid, utilization, memoryUsedMb, temperatureC, powerW } = value;
  if (typeof uuid !== 'string' || uuid.length < 1 || uuid.length > 128 || !isPrintableLabel(uuid)) return undefined;
  known++;
  const out: Gpu = { uuid };
  if ('utilization' in value) {
    if (typeof utilization !== 'number' || !isFinite(utilization) || utilization < 0 || utilization > 100) return undefined;
    out.utilization = utilization;
    known++;
  }
  if ('memoryUsedMb' in value) {
    if (typeof memoryUsedMb !== 'number' || !isFinite(memoryUsedMb) || memoryUsedMb < 0) return undefined;
    out.memoryUsedMb = memoryUsedMb;
    known++;
  }
  if ('temperatureC' in value) {
    if (typeof temperatureC !== 'number' || !isFinite(temperatureC)) return undefined;
    out.temperatureC = temperatureC;
    known++;
  }
  if ('powerW' in value) {
    if (typeof powerW !== 'number' || !isFinite(powerW) || powerW < 0) return undefined;
    out.powerW = powerW;
    known++;
  }
  // Unknown keys (zod strips them) and anything unusual take the schema's path.
  return Object.keys(value).length === known ? out : undefined;
}

/**
 * `{gpus?, containers?: [], draining?}` with valid telemetry → the parsed heartbeat; any other body → undefined (parse it
 * with heartbeatSchema). Lease reports, verification and logs always take the schema's path.
 */
export function parseQuietHeartbeat(body: unknown): HeartbeatInput | undefined {
  if (!plainObject(body)) return undefined;
  let known = 0;
  const { gpus, containers, draining } = body;
  const out: HeartbeatInput = { gpus: [], containers: [] };
  if ('gpus' in body) {
    if (!Array.isArray(gpus) || gpus.length > 64) return undefined;
    for (let i = 0; i < gpus.length; i++) {
      const parsed = gpu(gpus[i]);
      if (!parsed) return undefined;
      out.gpus.push(parsed);
    }
    known++;
  }
  if ('containers' in body) {
    if (!Array.isArray(containers) || containers.length !== 0) return undefined;
    known++;
  }
  if ('draining' in body) {
    if (typeof draining !== 'boolean') return undefined;
    out.draining = draining;
    known++;
  }
  return Object.keys(body).length === known ? out : undefined;
}
