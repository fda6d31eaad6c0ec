// The `nvidia-smi --query-gpu` query: which fields to ask a driver (from its `--help-query-gpu` listing, and the one it
// refused), and reading the CSV it answers into per-GPU facts. Pure; nvidia-smi.ts runs the tool.
import { ExternalError } from '../errors.js';
import type { MigDevice } from './nvidia-smi-text.js';

/** One value iocli reads per GPU: the first of `names` the driver knows is asked (newer names first). */
interface QueryField {
  key: Exclude<keyof NvidiaSmiGpu, 'migDevices'>;
  names: readonly string[];
  /** Without it a GPU cannot be told apart: a driver refusing it fails detection. */
  required?: boolean;
}

/**
 * What iocli asks of `nvidia-smi --query-gpu`. Driver 610 deprecates `driver_version` for `kmd_version`, so the driver
 * field prefers `kmd_version` where `--help-query-gpu` lists it. Every field but index and uuid is optional: a driver that
 * refuses one costs that value only.
 */
const QUERY_FIELDS: readonly QueryField[] = [
  { key: 'index', names: ['index'], required: true },
  { key: 'uuid', names: ['uuid'], required: true },
  { key: 'name', names: ['name'] },
  { key: 'memoryTotalMb', names: ['memory.total'] },
  { key: 'memoryUsedMb', names: ['memory.used'] },
  { key: 'driver', names: ['kmd_version', 'driver_version'] },
  { key: 'pciBusId', names: ['pci.bus_id'] },
  { key: 'utilizationGpu', names: ['utilization.gpu'] },
  { key: 'utilizationMemory', names: ['utilization.memory'] },
  { key: 'temperatureC', names: ['temperature.gpu'] },
  { key: 'powerW', names: ['power.draw'] },
  { key: 'powerLimitW', names: ['power.limit'] },
  { key: 'migMode', names: ['mig.mode.current'] },
];

const FIELD_BY_NAME = new Map(QUERY_FIELDS.flatMap((field) => field.names.map((name) => [name, field] as const)));

/** Whether `name` asks for a value iocli can do without: a driver refusing it costs that value only. */
export function isOptionalQueryField(name: string): boolean {
  const field = FIELD_BY_NAME.get(name);
  return field !== undefined && !field.required;
}

/** The values a query asking `fields` does not read, each by its preferred field name. */
export function valuesNotAsked(fields: readonly string[]): string[] {
  return QUERY_FIELDS.filter((field) => !field.names.some((name) => fields.includes(name))).map((field) => field.names[0]!);
}

/**
 * The query field names to ask, given what `--help-query-gpu` lists (null: unknown, e.g. an old driver without it).
 * Unknown support asks the long-standing names (`driver_version`); known support skips what the driver lacks.
 */
export function planQueryFields(supported: ReadonlySet<string> | null): string[] {
  const fields: string[] = [];
  for (const field of QUERY_FIELDS) {
    if (!supported) {
      fields.push(field.names[field.names.length - 1]!);
      continue;
    }
    const known = field.names.find((name) => supported.has(name));
    if (known) fields.push(known);
    else if (field.required) fields.push(field.names[0]!);
  }
  return fields;
}

/** The query fields a full plan asks when the driver's support is unknown. */
export const DEFAULT_QUERY_FIELDS: readonly string[] = planQueryFields(null);

export const queryArgs = (fields: readonly string[]): string[] => [`--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits'];

/**
 * Property names from `nvidia-smi --help-query-gpu`: each entry starts a line with its quoted name and any aliases
 * (`"uuid" or "gpu_uuid"`). Empty when the text is not that listing.
 */
export function parseHelpQueryGpu(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    if (!/^"[^"]+"(?:\s+or\s+"[^"]+")*\s*$/.test(line.trim())) continue;
    for (const match of line.matchAll(/"([^"]+)"/g)) names.add(match[1]!);
  }
  return names;
}

/** The field nvidia-smi refused (`Field "x" is not a valid field to query.`, exit 2), if that is what it printed. */
export function refusedQueryField(output: string): string | null {
  return /Field "([^"]+)" is not a valid field to query/i.exec(output)?.[1] ?? null;
}

/** MIG mode of a GPU: Enabled/Disabled, null where the GPU has no MIG ([N/A], consumer cards) or the driver did not say. */
export type MigMode = 'enabled' | 'disabled' | null;

/** A GPU's live readings (what telemetry reports): utilisation in %, temperature in °C, power in W; null where the driver gives none. */
export interface GpuReadings {
  utilizationGpu: number | null;
  utilizationMemory: number | null;
  temperatureC: number | null;
  powerW: number | null;
  powerLimitW: number | null;
}

export interface NvidiaSmiGpu extends GpuReadings {
  index: number;
  uuid: string;
  name: string;
  /** MiB. */
  memoryTotalMb: number | null;
  memoryUsedMb: number | null;
  driver: string | null;
  /** As nvidia-smi writes it: 8-hex-digit domain, e.g. "00000000:18:00.0". */
  pciBusId: string | null;
  migMode: MigMode;
  /** The GPU's MIG instances when MIG is enabled (from `nvidia-smi -L`); empty otherwise. */
  migDevices: MigDevice[];
}

/** nvidia-smi writes "[N/A]", "[Not Supported]", "[Unknown Error]", "[GPU is lost]", … where a value is missing. */
function present(value: string | undefined): string | null {
  const text = value?.trim() ?? '';
  if (!text || /^\[.*\]$/.test(text) || /^N\/A$/i.test(text)) return null;
  return text;
}

function numeric(value: string | undefined): number | null {
  const text = present(value);
  if (text === null) return null;
  const number = Number(text);
  return Number.isFinite(number) ? number : null;
}

function migModeOf(value: string | undefined): MigMode {
  const text = present(value)?.toLowerCase();
  return text === 'enabled' ? 'enabled' : text === 'disabled' ? 'disabled' : null;
}

/**
 * Parse `--query-gpu=<fields> --format=csv,noheader,nounits` output, one column per field asked. Zeros stay zeros;
 * missing values (and fields not asked) are null. Throws ExternalError on lines without the expected shape.
 */
export function parseNvidiaSmiCsv(text: string, fields: readonly string[] = DEFAULT_QUERY_FIELDS): NvidiaSmiGpu[] {
  const column = new Map<string, number>();
  fields.forEach((name, i) => {
    const field = FIELD_BY_NAME.get(name);
    if (field && !column.has(field.key)) column.set(field.key, i);
  });
  const gpus: NvidiaSmiGpu[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const cells = line.split(',').map((cell) => cell.trim());
    const cell = (key: QueryField['key']): string | undefined => {
      const i = column.get(key);
      return i === undefined ? undefined : cells[i];
    };
    const index = numeric(cell('index'));
    const uuid = present(cell('uuid'));
    if (cells.length !== fields.length || index === null || !Number.isInteger(index) || !uuid) {
      throw new ExternalError('nvidia-smi printed output iocli cannot read.', {
        code: 'NVIDIA_SMI_OUTPUT',
        hint: 'Check that `nvidia-smi --query-gpu=index,uuid --format=csv` works; report the output if it looks normal.',
        details: { line },
      });
    }
    gpus.push({
      index,
      uuid,
      name: present(cell('name')) ?? 'Unknown NVIDIA GPU',
      memoryTotalMb: numeric(cell('memoryTotalMb')),
      memoryUsedMb: numeric(cell('memoryUsedMb')),
      driver: present(cell('driver')),
      pciBusId: present(cell('pciBusId')),
      utilizationGpu: numeric(cell('utilizationGpu')),
      utilizationMemory: numeric(cell('utilizationMemory')),
      temperatureC: numeric(cell('temperatureC')),
      powerW: numeric(cell('powerW')),
      powerLimitW: numeric(cell('powerLimitW')),
      migMode: migModeOf(cell('migMode')),
      migDevices: [],
    });
  }
  return gpus.sort((a, b) => a.index - b.index);
}
