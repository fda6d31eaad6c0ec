// Parsers of nvidia-smi's human-readable outputs: the plain table's header (driver and CUDA versions) and its
// "MIG devices" part, `nvidia-smi -L` (GPUs with their MIG instances) and `--version`. Pure; the CSV query has its own module.

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
