// nvidia-smi: the authoritative per-GPU facts (UUID, index, memory, driver, CUDA, MIG), its output parsers, and failure diagnosis.
import { CancelledError, ExternalError } from '../errors.js';

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

/** One MIG instance (`nvidia-smi -L`): a slice of a GPU with its own UUID, compute share and memory. */
export interface MigDevice {
  /** The instance's index on its GPU ("Device N"). */
  index: number;
  /** Profile, e.g. "3g.40gb": 3 of the GPU's compute slices (7 on A100/H100/H200), about 40 GB. */
  profile: string;
  uuid: string;
  /** Compute slices from the profile ("3g" → 3); null when the profile has another shape. */
  computeSlices: number | null;
  /** MiB, from the MIG devices table of plain `nvidia-smi`; null when it was not printed. */
  memoryMb: number | null;
}

export interface NvidiaSmiGpu {
  index: number;
  uuid: string;
  name: string;
  /** MiB. */
  memoryTotalMb: number | null;
  memoryUsedMb: number | null;
  driver: string | null;
  /** As nvidia-smi writes it: 8-hex-digit domain, e.g. "00000000:18:00.0". */
  pciBusId: string | null;
  utilizationGpu: number | null;
  utilizationMemory: number | null;
  temperatureC: number | null;
  powerW: number | null;
  powerLimitW: number | null;
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

/**
 * Driver and CUDA versions from any text nvidia-smi prints them in: the plain table's header
 * (`Driver Version: 590.48.01  CUDA Version: 13.1`; driver 610: `KMD Version: 610.43.02  CUDA UMD Version: 13.3`),
 * `nvidia-smi -q`, and `nvidia-smi --version` (`DRIVER version : …`; 610: `KMD version : …`, `CUDA UMD version : …`).
 * The KMD/UMD names win where both are printed; "N/A" and "Deprecated, see …" are no version.
 */
export function parseNvidiaSmiVersions(text: string): { driver: string | null; cuda: string | null } {
  const find = (...labels: string[]): string | null => {
    for (const label of labels) {
      const match = new RegExp(`\\b${label}\\s*:\\s*(\\d+(?:\\.\\d+)+)`, 'i').exec(text);
      if (match) return match[1]!;
    }
    return null;
  };
  return { driver: find('KMD Version', 'Driver Version'), cuda: find('CUDA UMD Version', 'CUDA Version') };
}

/** One GPU of `nvidia-smi -L` with its MIG instances. */
export interface ListedGpu {
  index: number;
  name: string;
  uuid: string;
  migDevices: MigDevice[];
}

/**
 * Parse `nvidia-smi -L`: `GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-…)` lines, each followed by its MIG instances
 * (`  MIG 3g.40gb     Device  0: (UUID: MIG-…)`; older drivers wrote `MIG-GPU-<uuid>/<gi>/<ci>`).
 */
export function parseNvidiaSmiList(text: string): ListedGpu[] {
  const gpus: ListedGpu[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const gpu = /^GPU\s+(\d+):\s*(.*?)\s*\(UUID:\s*(GPU-[^)\s]+)\)/.exec(line);
    if (gpu) {
      gpus.push({ index: Number(gpu[1]), name: gpu[2]!, uuid: gpu[3]!, migDevices: [] });
      continue;
    }
    const mig = /^MIG\s+(\S+)\s+Device\s+(\d+):\s*\(UUID:\s*(MIG-[^)\s]+)\)/.exec(line);
    const owner = gpus[gpus.length - 1];
    if (mig && owner) {
      const slices = /^(\d+)g\./.exec(mig[1]!)?.[1];
      owner.migDevices.push({ index: Number(mig[2]), profile: mig[1]!, uuid: mig[3]!, computeSlices: slices ? Number(slices) : null, memoryMb: null });
    }
  }
  return gpus;
}

/**
 * Memory of each MIG instance from the "MIG devices" table of plain `nvidia-smi`, whose rows read
 * `|  0    2   0   0  |   26MiB / 40448MiB | …` (GPU, GPU instance, compute instance, MIG device). Key: "<gpu>/<mig device>".
 */
export function parseMigMemory(text: string): Map<string, number> {
  const memory = new Map<string, number>();
  for (const line of text.split(/\r?\n/)) {
    const row = /^\|\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\|\s*\d+\s*MiB\s*\/\s*(\d+)\s*MiB/.exec(line);
    if (row) memory.set(`${row[1]}/${row[4]}`, Number(row[5]));
  }
  return memory;
}

export interface NvidiaSmiRun {
  /** Spawn error code, e.g. 'ENOENT' when the binary is not on PATH. */
  spawnError?: string;
  exitCode?: number;
  timedOut?: boolean;
  stdout: string;
  stderr: string;
}

export type NvidiaSmiDiagnosis =
  | { kind: 'missing'; message: string; hint: string }
  | { kind: 'no-devices'; message: string }
  | { kind: 'failed'; code: string; message: string; hint: string };

/**
 * What a failed nvidia-smi run means. 'missing' and 'no-devices' are states of a machine without usable GPUs (not errors);
 * 'failed' is a broken driver that the user must fix. nvidia-smi prints its errors on stdout, so both streams are read.
 */
export function diagnoseNvidiaSmiFailure(run: NvidiaSmiRun): NvidiaSmiDiagnosis {
  const output = `${run.stdout}\n${run.stderr}`;
  if (run.spawnError === 'ENOENT') {
    return {
      kind: 'missing',
      message: 'No NVIDIA driver tools: nvidia-smi is not installed or not on PATH.',
      hint: 'Install the NVIDIA driver (it ships nvidia-smi), e.g. `sudo apt install nvidia-driver` or `sudo ubuntu-drivers install`, then reboot.',
    };
  }
  if (/No devices were found/i.test(output)) return { kind: 'no-devices', message: 'The NVIDIA driver is installed but found no GPU.' };
  if (/Driver\/library version mismatch/i.test(output)) {
    const nvml = /NVML library version:\s*([\d.]+)/i.exec(output)?.[1];
    return {
      kind: 'failed',
      code: 'NVIDIA_DRIVER_MISMATCH',
      message: `NVIDIA driver/library version mismatch${nvml ? ` (user-space NVML ${nvml})` : ''}: the loaded kernel module is older than the installed driver.`,
      hint: 'This usually follows a driver upgrade without a reboot. Reboot, or unload and reload the modules: `sudo rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia && sudo modprobe nvidia`.',
    };
  }
  if (/couldn't communicate with the NVIDIA driver|NVIDIA driver is not loaded/i.test(output)) {
    return {
      kind: 'failed',
      code: 'NVIDIA_DRIVER_NOT_LOADED',
      message: 'nvidia-smi could not communicate with the NVIDIA driver: the kernel module is not loaded.',
      hint: 'Check `lsmod | grep nvidia` and `dmesg | grep -i nvidia`. Load it with `sudo modprobe nvidia`; if that fails (Secure Boot, a kernel update without DKMS), reinstall the driver for the running kernel and reboot.',
    };
  }
  if (/NVML Shared Library Not Found|libnvidia-ml\.so/i.test(output)) {
    return {
      kind: 'failed',
      code: 'NVIDIA_NVML_MISSING',
      message: 'nvidia-smi cannot load the NVML library (libnvidia-ml.so): the driver installation is incomplete.',
      hint: 'Reinstall the NVIDIA driver package for your distribution, then reboot.',
    };
  }
  if (/fallen off the bus|GPU is lost|Unknown Error/i.test(output)) {
    return {
      kind: 'failed',
      code: 'NVIDIA_GPU_LOST',
      message: 'A GPU stopped responding to the driver (it has fallen off the bus or reports an unknown error).',
      hint: 'Check `dmesg | grep -i xid` for the cause; a reboot brings it back, repeated failures point at power, cooling or the riser/slot.',
    };
  }
  const refused = refusedQueryField(output);
  if (refused) {
    return {
      kind: 'failed',
      code: 'NVIDIA_SMI_FIELD_REFUSED',
      message: `This driver's nvidia-smi does not know the query field "${refused}", which iocli cannot do without.`,
      hint: 'Report the output of `nvidia-smi --version` and `nvidia-smi --help-query-gpu` to the iocli maintainers; updating the driver may help meanwhile.',
    };
  }
  if (run.timedOut) {
    return {
      kind: 'failed',
      code: 'NVIDIA_SMI_TIMEOUT',
      message: 'nvidia-smi did not answer in time: the driver may be hung.',
      hint: 'Check `dmesg | grep -i nvidia`; enabling persistence mode (`sudo nvidia-smi -pm 1`) speeds up queries. A hung driver needs a reboot.',
    };
  }
  const firstLine = output.split('\n').map((l) => l.trim()).find(Boolean);
  return {
    kind: 'failed',
    code: 'NVIDIA_SMI_FAILED',
    message: `nvidia-smi failed${run.exitCode !== undefined ? ` with exit code ${run.exitCode}` : ''}${firstLine ? `: ${firstLine}` : '.'}`,
    hint: 'Run `nvidia-smi` yourself to see the full message; reinstalling or reloading the driver fixes most failures.',
  };
}

export interface NvidiaSmiFacts {
  gpus: NvidiaSmiGpu[];
  driver: string | null;
  cuda: string | null;
  /** The query fields asked (pass back as `fields` to skip asking the driver again). */
  fields: string[];
  /** Values this driver could not give: fields it does not list or refused. Their readings are null. */
  unavailableFields: string[];
}

export type NvidiaSmiResult = ({ status: 'ok' } & NvidiaSmiFacts) | { status: 'missing' | 'no-devices'; message: string; hint?: string };

export interface NvidiaSmiOptions {
  /** The binary to run; a name is looked up on PATH. */
  command?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Query fields a previous result settled on: skips `--help-query-gpu`. */
  fields?: readonly string[];
  /** Per-GPU readings only (telemetry): no header table, `--version` or `-L`. */
  readingsOnly?: boolean;
}

async function runNvidiaSmi(args: readonly string[], options: NvidiaSmiOptions): Promise<NvidiaSmiRun> {
  const { execa } = await import('execa');
  const result = await execa(options.command ?? 'nvidia-smi', [...args], {
    reject: false,
    timeout: options.timeoutMs ?? 15_000,
    cancelSignal: options.signal,
    stdin: 'ignore',
    env: { LC_ALL: 'C' },
  });
  return {
    spawnError: typeof result.code === 'string' ? result.code : undefined,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
  };
}

const succeeded = (run: NvidiaSmiRun | undefined): run is NvidiaSmiRun => run !== undefined && !run.spawnError && run.exitCode === 0;

/**
 * Ask nvidia-smi for every GPU, its MIG instances and the driver/CUDA versions. No driver tools or no GPU is a normal
 * result; a broken driver throws ExternalError with a fix in its hint. The driver is asked which query fields it knows
 * (`--help-query-gpu`), and a field it still refuses is dropped and the query retried, so a field a driver renamed or
 * removed costs that value only.
 */
export async function queryNvidiaSmi(options: NvidiaSmiOptions = {}): Promise<NvidiaSmiResult> {
  const full = !options.readingsOnly;
  // The help listing and the header table are independent of the query: all start at once to keep detection quick.
  const [help, table] = await Promise.all([
    options.fields ? undefined : runNvidiaSmi(['--help-query-gpu'], options),
    full ? runNvidiaSmi([], options) : undefined,
  ]);
  const listed = succeeded(help) ? parseHelpQueryGpu(help.stdout) : new Set<string>();
  let fields = options.fields ? [...options.fields] : planQueryFields(listed.size > 0 ? listed : null);
  const unavailable = QUERY_FIELDS.filter((field) => !field.names.some((name) => fields.includes(name))).map((field) => field.names[0]!);

  let query: NvidiaSmiRun;
  for (;;) {
    query = await runNvidiaSmi(queryArgs(fields), options);
    if (options.signal?.aborted) throw new CancelledError();
    const refused = query.exitCode !== 0 ? refusedQueryField(`${query.stdout}\n${query.stderr}`) : null;
    const field = refused ? FIELD_BY_NAME.get(refused) : undefined;
    if (!refused || !field || field.required || !fields.includes(refused)) break;
    fields = fields.filter((name) => name !== refused);
    unavailable.push(refused);
  }
  if (query.spawnError || query.exitCode !== 0) {
    const diagnosis = diagnoseNvidiaSmiFailure(query);
    if (diagnosis.kind === 'missing') return { status: 'missing', message: diagnosis.message, hint: diagnosis.hint };
    if (diagnosis.kind === 'no-devices') return { status: 'no-devices', message: diagnosis.message };
    throw new ExternalError(diagnosis.message, {
      code: diagnosis.code,
      hint: diagnosis.hint,
      command: `nvidia-smi ${queryArgs(fields).join(' ')}`,
      stderr: `${query.stdout}\n${query.stderr}`.trim(),
    });
  }
  const gpus = parseNvidiaSmiCsv(query.stdout, fields);
  if (!full) return { status: 'ok', gpus, driver: gpus.find((g) => g.driver)?.driver ?? null, cuda: null, fields, unavailableFields: unavailable };

  // MIG instances are listed only by `-L`, their memory only by the header table's "MIG devices" part.
  const mig = gpus.some((gpu) => gpu.migMode === 'enabled') ? await runNvidiaSmi(['-L'], options) : undefined;
  if (succeeded(mig)) {
    const memory = succeeded(table) ? parseMigMemory(table.stdout) : new Map<string, number>();
    for (const listedGpu of parseNvidiaSmiList(mig.stdout)) {
      const gpu = gpus.find((g) => g.uuid === listedGpu.uuid) ?? gpus.find((g) => g.index === listedGpu.index);
      if (!gpu) continue;
      gpu.migDevices = listedGpu.migDevices.map((device) => ({ ...device, memoryMb: memory.get(`${gpu.index}/${device.index}`) ?? null }));
    }
  }
  let versions = succeeded(table) ? parseNvidiaSmiVersions(table.stdout) : { driver: null, cuda: null };
  if (!versions.cuda) {
    // A header without a CUDA version (a format iocli does not know yet): `--version` prints it on its own line.
    const version = await runNvidiaSmi(['--version'], options);
    if (succeeded(version)) {
      const parsed = parseNvidiaSmiVersions(version.stdout);
      versions = { driver: versions.driver ?? parsed.driver, cuda: parsed.cuda };
    }
  }
  return { status: 'ok', gpus, driver: gpus.find((g) => g.driver)?.driver ?? versions.driver, cuda: versions.cuda, fields, unavailableFields: unavailable };
}
