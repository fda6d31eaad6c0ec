// Parsing, validating and suggesting the provider's choices (flags and saved settings): GPU selection, price, region, simulated GPUs. Pure.
import { compileModelFilter, getGpuCatalogueEntry, GPU_CATALOGUE, resolveGpuModel, type GpuCatalogueEntry } from '../domain/gpu-catalogue.js';
import { UsageError } from '../errors.js';

export type GpuSelection = 'all' | number[];

/** "all" or "0,1,3" → indices (sorted, unique). */
export function parseGpuSelection(raw: string, flag = '--gpus'): GpuSelection {
  const text = raw.trim().toLowerCase();
  if (text === 'all') return 'all';
  if (!/^\d{1,2}(\s*,\s*\d{1,2})*$/.test(text)) {
    throw new UsageError(`Invalid ${flag} "${raw}".`, { hint: `Use "all" or GPU indices like 0,1 (see \`iocli gpus\`).` });
  }
  return [...new Set(text.split(',').map((part) => Number(part.trim())))].sort((a, b) => a - b);
}

export function formatGpuSelection(selection: GpuSelection): string {
  return selection === 'all' ? 'all' : selection.join(',');
}

export function validateRegion(raw: string, flag = '--region'): string {
  if (!/^[a-z][a-z0-9-]{1,31}$/.test(raw)) {
    throw new UsageError(`Invalid ${flag} "${raw}".`, { hint: 'Use lowercase letters, digits and dashes, e.g. us-east or eu-west-1.' });
  }
  return raw;
}

export interface SimulatedGpuRequest {
  count: number;
  model: GpuCatalogueEntry;
}

export const DEFAULT_SIMULATED_MODEL = 'RTX4090-24GB';

/** "8" or "8:H100" (any catalogue id or words of one) → count and catalogue entry. */
export function parseSimulateGpus(raw: string): SimulatedGpuRequest {
  const match = /^(\d{1,2})(?::(.+))?$/.exec(raw.trim());
  const count = match ? Number(match[1]) : 0;
  if (!match || count < 1 || count > 64) {
    throw new UsageError(`Invalid --simulate-gpus "${raw}".`, { hint: 'Use N or N:MODEL with N from 1 to 64, e.g. 8:H100 or 2:RTX4090.' });
  }
  const wanted = match[2]?.trim() ?? DEFAULT_SIMULATED_MODEL;
  const model = getGpuCatalogueEntry(wanted) ?? GPU_CATALOGUE.find(compileModelFilter(wanted));
  if (!model) {
    throw new UsageError(`Unknown GPU model "${wanted}" in --simulate-gpus.`, {
      hint: `Use a catalogue id such as ${GPU_CATALOGUE.slice(0, 4).map((e) => e.id).join(', ')} (or words of one: H100, A100 80GB, 4090).`,
    });
  }
  return { count, model };
}

export interface SimulatedGpu {
  index: number;
  uuid: string;
  model: string;
  vramMb: number;
}

/** Synthetic, stable UUIDs `SIM-<machine>-<i>`: distinct across machines, never mistaken for real ones (no GPU- prefix). */
export function simulatedGpus(machineId: string, request: SimulatedGpuRequest): SimulatedGpu[] {
  const machine = machineId.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 100);
  return Array.from({ length: request.count }, (_, index) => ({
    index,
    uuid: `SIM-${machine}-${index}`,
    model: request.model.id,
    vramMb: request.model.vramGb * 1024,
  }));
}

/** The GPUs of `all` that `selection` picks; an index that does not exist is a usage error naming it. */
export function selectGpus<T extends { index: number }>(all: readonly T[], selection: GpuSelection, flag = '--gpus'): T[] {
  if (selection === 'all') return [...all];
  const missing = selection.filter((index) => !all.some((gpu) => gpu.index === index));
  if (missing.length > 0) {
    throw new UsageError(`${flag} names GPU ${missing.join(', ')}, which this machine does not have.`, {
      hint: `Available: ${all.map((gpu) => gpu.index).join(', ') || 'none'} (see \`iocli gpus\`).`,
    });
  }
  return all.filter((gpu) => selection.includes(gpu.index));
}

/** The catalogue's price suggestion (base units per GPU-hour): the simulated model's, else the first detected GPU's model's. */
export function suggestedPricePerGpuHour(
  simulate: SimulatedGpuRequest | undefined,
  detected: ReadonlyArray<{ model: string; name: string; vramMb: number | null }>,
): number | undefined {
  if (simulate) return simulate.model.suggestedPricePerGpuHour;
  const first = detected[0];
  if (!first) return undefined;
  const model = getGpuCatalogueEntry(first.model) ?? resolveGpuModel(first.name, first.vramMb);
  return model.suggestedPricePerGpuHour ?? undefined;
}

/** A region guess from the time zone (e.g. "Europe/Berlin"), only as a prompt default. */
export function guessRegion(timeZone: string): string {
  if (timeZone.startsWith('Europe/')) return 'eu-west';
  if (timeZone.startsWith('America/')) return 'us-east';
  if (timeZone.startsWith('Asia/') || timeZone.startsWith('Australia/')) return 'ap-east';
  return 'local';
}

/**
 * `provide bond|unbond --gpus`: undefined for all of the node's GPUs, else their UUIDs (given as UUIDs, or as indexes
 * into the node's bonded GPU list).
 */
export function selectBondGpus(flag: string | undefined, bondGpus: readonly { uuid: string }[]): string[] | undefined {
  if (!flag || flag === 'all') return undefined;
  const parts = flag.split(',').map((part) => part.trim()).filter(Boolean);
  return parts.map((part) => {
    if (/^\d+$/.test(part)) {
      const gpu = bondGpus[Number(part)];
      if (!gpu) throw new UsageError(`--gpus ${flag}: the node has ${bondGpus.length} GPU(s).`, { hint: 'Use indexes from `iocli provide status` or GPU UUIDs.' });
      return gpu.uuid;
    }
    return part;
  });
}
