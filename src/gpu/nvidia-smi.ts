// nvidia-smi: the authoritative per-GPU facts (UUID, index, memory, driver, CUDA), its output parsers, and failure diagnosis.
import { CancelledError, ExternalError } from '../errors.js';

/** Fields asked of `nvidia-smi --query-gpu`, in output order. */
export const NVIDIA_SMI_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'memory.total',
  'memory.used',
  'driver_version',
  'pci.bus_id',
  'utilization.gpu',
  'utilization.memory',
  'temperature.gpu',
  'power.draw',
  'power.limit',
] as const;

export const NVIDIA_SMI_QUERY_ARGS: readonly string[] = [
  `--query-gpu=${NVIDIA_SMI_QUERY_FIELDS.join(',')}`,
  '--format=csv,noheader,nounits',
];

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

/**
 * Parse `--query-gpu=<NVIDIA_SMI_QUERY_FIELDS> --format=csv,noheader,nounits` output. Zeros stay zeros; missing values are null.
 * Throws ExternalError on lines that do not have the expected shape (a different nvidia-smi, or an error message).
 */
export function parseNvidiaSmiCsv(text: string): NvidiaSmiGpu[] {
  const gpus: NvidiaSmiGpu[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const cells = line.split(',').map((cell) => cell.trim());
    const index = numeric(cells[0]);
    const uuid = present(cells[1]);
    if (cells.length !== NVIDIA_SMI_QUERY_FIELDS.length || index === null || !Number.isInteger(index) || !uuid) {
      throw new ExternalError('nvidia-smi printed output iocli cannot read.', {
        code: 'NVIDIA_SMI_OUTPUT',
        hint: 'Check that `nvidia-smi --query-gpu=index,uuid --format=csv` works; report the output if it looks normal.',
        details: { line },
      });
    }
    gpus.push({
      index,
      uuid,
      name: present(cells[2]) ?? 'Unknown NVIDIA GPU',
      memoryTotalMb: numeric(cells[3]),
      memoryUsedMb: numeric(cells[4]),
      driver: present(cells[5]),
      pciBusId: present(cells[6]),
      utilizationGpu: numeric(cells[7]),
      utilizationMemory: numeric(cells[8]),
      temperatureC: numeric(cells[9]),
      powerW: numeric(cells[10]),
      powerLimitW: numeric(cells[11]),
    });
  }
  return gpus.sort((a, b) => a.index - b.index);
}

/** Driver and CUDA versions from the plain `nvidia-smi` header table or from `nvidia-smi -q`. */
export function parseNvidiaSmiVersions(text: string): { driver: string | null; cuda: string | null } {
  const driver = /Driver Version\s*:\s*([\d.]+)/.exec(text)?.[1] ?? null;
  const cuda = /CUDA Version\s*:\s*([\d.]+)/.exec(text)?.[1] ?? null;
  return { driver, cuda };
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
}

export type NvidiaSmiResult = ({ status: 'ok' } & NvidiaSmiFacts) | { status: 'missing' | 'no-devices'; message: string; hint?: string };

export interface NvidiaSmiOptions {
  /** The binary to run; a name is looked up on PATH. */
  command?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
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

/**
 * Ask nvidia-smi for every GPU and the driver/CUDA versions. No driver tools or no GPU is a normal result; a broken
 * driver throws ExternalError with a fix in its hint.
 */
export async function queryNvidiaSmi(options: NvidiaSmiOptions = {}): Promise<NvidiaSmiResult> {
  // The header query is only for the CUDA version; both run at once to keep detection quick.
  const [query, header] = await Promise.all([runNvidiaSmi(NVIDIA_SMI_QUERY_ARGS, options), runNvidiaSmi([], options)]);
  if (options.signal?.aborted) throw new CancelledError();
  if (query.spawnError || query.exitCode !== 0) {
    const diagnosis = diagnoseNvidiaSmiFailure(query);
    if (diagnosis.kind === 'missing') return { status: 'missing', message: diagnosis.message, hint: diagnosis.hint };
    if (diagnosis.kind === 'no-devices') return { status: 'no-devices', message: diagnosis.message };
    throw new ExternalError(diagnosis.message, {
      code: diagnosis.code,
      hint: diagnosis.hint,
      command: `nvidia-smi ${NVIDIA_SMI_QUERY_ARGS.join(' ')}`,
      stderr: `${query.stdout}\n${query.stderr}`.trim(),
    });
  }
  const gpus = parseNvidiaSmiCsv(query.stdout);
  const versions = header.exitCode === 0 ? parseNvidiaSmiVersions(header.stdout) : { driver: null, cuda: null };
  return { status: 'ok', gpus, driver: gpus.find((g) => g.driver)?.driver ?? versions.driver, cuda: versions.cuda };
}
