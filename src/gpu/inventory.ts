// What this machine offers: host facts from systeminformation, GPUs from nvidia-smi, merged by PCI bus id.
import { resolveGpuModel } from '../domain/gpu-catalogue.js';
import { queryNvidiaSmi, type NvidiaSmiResult } from './nvidia-smi.js';
import type { GpuReadings, MigMode, NvidiaSmiGpu } from './nvidia-smi-query.js';
import type { MigDevice } from './nvidia-smi-text.js';

export interface HostInfo {
  hostname: string;
  /** Distribution and release, e.g. "Debian GNU/Linux 12". */
  os: string;
  kernel: string;
  arch: string;
  cpu: { model: string; cores: number };
  memoryBytes: number;
  /** Free bytes on the filesystem holding `diskPath` (container images live there); null if unknown. */
  diskFreeBytes: number | null;
}

export interface GpuInfo extends GpuReadings {
  index: number;
  uuid: string;
  /** As the driver reports it, e.g. "NVIDIA H100 80GB HBM3". */
  name: string;
  /** Catalogue id (src/domain/gpu-catalogue.ts), 'unknown' when not catalogued. */
  model: string;
  vramMb: number | null;
  vramUsedMb: number | null;
  driver: string | null;
  cuda: string | null;
  /** Linux form, e.g. "0000:18:00.0". */
  pciBus: string | null;
  /** 'enabled': the GPU is split into MIG instances and cannot serve as a whole GPU (see `isWholeGpu`). */
  migMode: MigMode;
  /** Its MIG instances when MIG is enabled, each with its own `MIG-…` UUID; empty otherwise. */
  migDevices: MigDevice[];
}

/**
 * Whether a GPU can be offered, leased and verified as one whole GPU. A MIG-enabled GPU cannot: CUDA work runs only
 * inside its instances, so a lease handed its `GPU-…` UUID could run nothing, and a renter paying for the whole GPU
 * would get a slice. iocli does not offer MIG instances (yet): such a GPU is shown, but not offered.
 */
export function isWholeGpu(gpu: Pick<GpuInfo, 'uuid' | 'migMode'>): boolean {
  return gpu.migMode !== 'enabled' && !/^MIG-/i.test(gpu.uuid);
}

/** The command that turns MIG off on these GPUs (it takes effect after a GPU reset or a reboot). */
export function migDisableCommand(indexes: readonly number[]): string {
  const ids = indexes.join(',');
  return `sudo nvidia-smi -i ${ids} -mig 0 && sudo nvidia-smi -i ${ids} -r`;
}

/** A GPU the PCI bus shows but the NVIDIA driver does not report (no driver, or a card the driver rejected). */
export interface UnmanagedGpu {
  pciBus: string | null;
  vendor: string;
  name: string;
}

export interface Inventory {
  host: HostInfo;
  gpus: GpuInfo[];
  driver: string | null;
  cuda: string | null;
  unmanagedGpus: UnmanagedGpu[];
  /** nvidia-smi query fields this driver does not know or refused: their values read as unknown. */
  unavailableFields: string[];
  /** Why there are no (or fewer) usable GPUs, for people. Absent when all is well. */
  diagnosis?: string;
}

/** The parts of a systeminformation graphics controller the merge reads. */
export interface PciGpuController {
  vendor?: string;
  model?: string;
  name?: string;
  busAddress?: string;
  pciBus?: string;
  temperatureGpu?: number;
  utilizationGpu?: number;
  utilizationMemory?: number;
  powerDraw?: number;
  powerLimit?: number;
}

/** "00000000:18:00.0" (nvidia-smi), "18:00.0" (lspci), "0000:18:00.0" (sysfs) → "0000:18:00.0"; null if not a bus id. */
export function normalisePciBusId(id: string | null | undefined): string | null {
  const match = /^(?:([0-9a-f]{1,8}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(id?.trim() ?? '');
  if (!match) return null;
  const domain = parseInt(match[1] ?? '0', 16).toString(16).padStart(4, '0');
  return `${domain}:${match[2]}:${match[3]}.${match[4]}`.toLowerCase();
}

function isNvidia(controller: PciGpuController): boolean {
  return /nvidia/i.test(controller.vendor ?? '') || /nvidia/i.test(controller.model ?? '');
}

export interface MergeInput {
  controllers: readonly PciGpuController[];
  nvidia: NvidiaSmiResult;
}

/**
 * Merge the PCI view (systeminformation) with nvidia-smi. nvidia-smi is authoritative for every GPU it reports (it alone
 * knows UUIDs and keeps zero values); the PCI view only fills its gaps and reveals NVIDIA GPUs the driver does not manage.
 */
export function mergeGpuFacts({ controllers, nvidia }: MergeInput): Pick<Inventory, 'gpus' | 'driver' | 'cuda' | 'unmanagedGpus' | 'unavailableFields' | 'diagnosis'> {
  const smiGpus: readonly NvidiaSmiGpu[] = nvidia.status === 'ok' ? nvidia.gpus : [];
  const cuda = nvidia.status === 'ok' ? nvidia.cuda : null;
  const driver = nvidia.status === 'ok' ? nvidia.driver : null;
  const byBus = new Map<string, PciGpuController>();
  for (const controller of controllers) {
    const bus = normalisePciBusId(controller.pciBus) ?? normalisePciBusId(controller.busAddress);
    if (bus) byBus.set(bus, controller);
  }

  const seen = new Set<string>();
  const gpus = smiGpus.map((gpu): GpuInfo => {
    const pciBus = normalisePciBusId(gpu.pciBusId);
    const pci = pciBus ? byBus.get(pciBus) : undefined;
    if (pciBus) seen.add(pciBus);
    // systeminformation drops zeros and [N/A]: its values can only fill a null, never replace a reading.
    return {
      index: gpu.index,
      uuid: gpu.uuid,
      name: gpu.name,
      model: resolveGpuModel(gpu.name, gpu.memoryTotalMb).id,
      vramMb: gpu.memoryTotalMb,
      vramUsedMb: gpu.memoryUsedMb,
      driver: gpu.driver ?? driver,
      cuda,
      pciBus,
      utilizationGpu: gpu.utilizationGpu ?? pci?.utilizationGpu ?? null,
      utilizationMemory: gpu.utilizationMemory ?? pci?.utilizationMemory ?? null,
      temperatureC: gpu.temperatureC ?? pci?.temperatureGpu ?? null,
      powerW: gpu.powerW ?? pci?.powerDraw ?? null,
      powerLimitW: gpu.powerLimitW ?? pci?.powerLimit ?? null,
      migMode: gpu.migMode,
      migDevices: gpu.migDevices,
    };
  });

  const unmanagedGpus: UnmanagedGpu[] = controllers
    .filter((c) => isNvidia(c))
    .filter((c) => {
      const bus = normalisePciBusId(c.pciBus) ?? normalisePciBusId(c.busAddress);
      return !bus || !seen.has(bus);
    })
    .map((c) => ({
      pciBus: normalisePciBusId(c.pciBus) ?? normalisePciBusId(c.busAddress),
      vendor: c.vendor ?? '',
      name: (c.name ?? c.model ?? '').trim() || 'NVIDIA GPU',
    }));

  const unavailableFields = nvidia.status === 'ok' ? nvidia.unavailableFields : [];
  return { gpus, driver, cuda, unmanagedGpus, unavailableFields, diagnosis: diagnose(nvidia, gpus, unmanagedGpus.length) };
}

function diagnose(nvidia: NvidiaSmiResult, gpus: readonly GpuInfo[], unmanaged: number): string | undefined {
  const mig = gpus.filter((gpu) => !isWholeGpu(gpu));
  const usable = gpus.length - mig.length;
  const migNote =
    mig.length === 0
      ? undefined
      : `GPU ${mig.map((g) => g.index).join(', ')} ${mig.length === 1 ? 'has' : 'have'} MIG enabled (${mig.map((g) => `${g.migDevices.length} instance${g.migDevices.length === 1 ? '' : 's'}`).join(', ')}): ` +
        `iocli offers whole GPUs only, so ${mig.length === 1 ? 'it is' : 'they are'} not offered. To offer ${mig.length === 1 ? 'it' : 'them'}, turn MIG off: ${migDisableCommand(mig.map((g) => g.index))}`;
  const base = baseDiagnosis(nvidia, usable, unmanaged, mig.length);
  return [base, migNote].filter(Boolean).join(' ') || undefined;
}

function baseDiagnosis(nvidia: NvidiaSmiResult, usable: number, unmanaged: number, mig: number): string | undefined {
  const plural = (n: number) => `${n} NVIDIA GPU${n === 1 ? '' : 's'}`;
  if (nvidia.status === 'missing') {
    return unmanaged > 0
      ? `${plural(unmanaged)} found on the PCI bus, but no NVIDIA driver tools (nvidia-smi) are installed. ${nvidia.hint ?? ''}`.trim()
      : 'No NVIDIA GPU found on this machine (and no NVIDIA driver tools installed).';
  }
  if (nvidia.status === 'no-devices') {
    return unmanaged > 0
      ? `The NVIDIA driver reports no GPU, but ${plural(unmanaged)} ${unmanaged === 1 ? 'is' : 'are'} on the PCI bus: check \`dmesg | grep -i nvidia\` (an unsupported card or a failed initialisation).`
      : 'No NVIDIA GPU found on this machine (the driver is installed but reports no device).';
  }
  if (usable === 0) return mig > 0 ? undefined : 'No NVIDIA GPU found on this machine.';
  if (unmanaged > 0) return `${plural(unmanaged)} on the PCI bus ${unmanaged === 1 ? 'is' : 'are'} not managed by the NVIDIA driver and cannot be offered.`;
  return undefined;
}

/** Free bytes of the filesystem whose mount point is the longest prefix of `path`. */
export function diskFreeFor(filesystems: ReadonlyArray<{ mount: string; available: number }>, path: string): number | null {
  let best: { mount: string; available: number } | undefined;
  for (const fs of filesystems) {
    const mount = fs.mount.endsWith('/') && fs.mount !== '/' ? fs.mount.slice(0, -1) : fs.mount;
    const covers = mount === '/' || path === mount || path.startsWith(`${mount}/`);
    if (covers && (!best || mount.length > best.mount.length)) best = { mount, available: fs.available };
  }
  return best && Number.isFinite(best.available) ? best.available : null;
}

export interface DetectInventoryOptions {
  /** Where container images will be stored: its filesystem's free space is reported. */
  diskPath?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Detect host and GPUs. A machine without GPUs or without the NVIDIA driver gets an empty list and a `diagnosis`;
 * a broken driver (version mismatch, module not loaded) throws ExternalError with the fix in its hint.
 */
export async function detectInventory(options: DetectInventoryOptions = {}): Promise<Inventory> {
  const { default: si } = await import('systeminformation');
  const [nvidia, osInfo, cpu, mem, filesystems, graphics] = await Promise.all([
    queryNvidiaSmi({ timeoutMs: options.timeoutMs, signal: options.signal }),
    si.osInfo(),
    si.cpu(),
    si.mem(),
    si.fsSize().catch(() => []),
    si.graphics().catch(() => ({ controllers: [] })),
  ]);
  const host: HostInfo = {
    hostname: osInfo.hostname,
    os: [osInfo.distro, osInfo.release].filter((part) => part && part !== 'unknown').join(' ') || osInfo.platform,
    kernel: osInfo.kernel,
    arch: osInfo.arch,
    cpu: { model: [cpu.manufacturer, cpu.brand].filter(Boolean).join(' ').trim() || 'unknown', cores: cpu.cores },
    memoryBytes: mem.total,
    diskFreeBytes: diskFreeFor(filesystems, options.diskPath ?? '/var/lib/docker'),
  };
  const controllers = (graphics.controllers ?? []) as unknown as PciGpuController[];
  return { host, ...mergeGpuFacts({ controllers, nvidia }) };
}
