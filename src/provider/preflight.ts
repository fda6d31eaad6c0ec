// `iocli provide --preflight`: can this machine serve leases? Docker, the NVIDIA runtime, GPUs, driver/CUDA, disk — each with its fix.
import { statfs } from 'node:fs/promises';
import { cpus, hostname, totalmem } from 'node:os';
import type { ContainerRuntime, DockerPreflight } from '../docker/runtime.js';
import { isWholeGpu, migDisableCommand, type Inventory } from '../gpu/inventory.js';
import { ExternalError, UserError } from '../errors.js';
import type { NodeIsolation } from '../api/schemas/nodes.js';
import { isolationChecks, type IsolationFacts } from './lease-isolation.js';
import type { SimulatedGpuRequest } from './options.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

export interface PreflightCheck {
  id: 'docker' | 'docker-daemon' | 'nvidia-runtime' | 'gpus' | 'driver' | 'disk' | 'lease-user' | 'lease-network' | 'lease-limits' | 'kernel-image';
  title: string;
  status: CheckStatus;
  message: string;
  /** The exact fix to run, for warn/fail. */
  hint?: string;
}

export interface HostFacts {
  hostname: string;
  cpu: { model: string; cores: number };
  memoryMb: number;
  diskFreeBytes: number | null;
}

export interface ProviderPreflight {
  /** No blocking failure: the agent can start. */
  ok: boolean;
  simulated: boolean;
  checks: PreflightCheck[];
  docker: DockerPreflight;
  /** Real mode only: what detection found (undefined when the driver is broken). */
  inventory?: Inventory;
  host: HostFacts;
  /** What isolation leases get here (with the `isolation` option and a reachable daemon). */
  isolation?: NodeIsolation;
  /** Whether the challenge kernel image is here (real GPUs, with the `kernelImage` option and a reachable daemon). */
  kernelImage?: { image: string; present: boolean };
}

export interface PreflightOptions {
  runtime: ContainerRuntime;
  /** Simulated GPUs: GPU, driver and NVIDIA runtime checks are skipped; Docker still must work. */
  simulate?: SimulatedGpuRequest;
  /** Real mode: GPU detection (src/gpu/inventory.ts's detectInventory). */
  detect?: () => Promise<Inventory>;
  /** Where images live; default /var/lib/docker (falls back to /). */
  diskPath?: string;
  /** Below this, the disk check fails (default 5 GiB); below 4× it warns. */
  minDiskBytes?: number;
  /** Lease isolation facts (src/provider/lease-isolation.ts's gatherIsolationFacts); absent: those checks are left out. */
  isolation?: (docker: DockerPreflight) => Promise<IsolationFacts>;
  /**
   * The challenge kernel image real GPUs answer challenges with (src/provider/challenge-kernel-image.ts): missing only
   * warns, since the agent pulls or builds it on the first challenge. Absent, or with simulated GPUs: not checked.
   */
  kernelImage?: { image: string; present: () => Promise<boolean> };
}

const GIB = 1024 ** 3;
const HINT_INSTALL_DRIVER =
  'Install the NVIDIA driver: sudo apt-get install -y nvidia-driver (Ubuntu: sudo ubuntu-drivers install), then reboot. ' +
  'No GPU here? Try the local network with simulated GPUs: iocli provide --simulate-gpus 2';

async function freeBytes(path: string): Promise<number | null> {
  for (const candidate of [path, '/']) {
    try {
      const stats = await statfs(candidate);
      return stats.bavail * stats.bsize;
    } catch {
      // try the next
    }
  }
  return null;
}

function hostFromOs(diskFreeBytes: number | null): HostFacts {
  const list = cpus();
  return {
    hostname: hostname(),
    cpu: { model: list[0]?.model?.trim() || 'unknown', cores: Math.max(1, list.length) },
    memoryMb: Math.floor(totalmem() / 1024 / 1024),
    diskFreeBytes,
  };
}

export async function runProviderPreflight(options: PreflightOptions): Promise<ProviderPreflight> {
  const checks: PreflightCheck[] = [];
  const simulated = options.simulate !== undefined;
  const [docker, disk] = await Promise.all([options.runtime.preflight(), freeBytes(options.diskPath ?? '/var/lib/docker')]);

  const problem = (code: string) => docker.problems.find((p) => p.code === code);
  const notInstalled = problem('DOCKER_NOT_INSTALLED');
  checks.push(
    notInstalled
      ? { id: 'docker', title: 'Docker installed', status: 'fail', message: notInstalled.message, hint: notInstalled.hint }
      : { id: 'docker', title: 'Docker installed', status: 'ok', message: `docker ${docker.clientVersion ?? '(unknown version)'}` },
  );
  if (!notInstalled) {
    const daemon = problem('DOCKER_DAEMON_UNREACHABLE') ?? problem('DOCKER_PERMISSION_DENIED');
    checks.push(
      daemon || !docker.daemonReachable
        ? { id: 'docker-daemon', title: 'Docker daemon reachable', status: 'fail', message: daemon?.message ?? 'The Docker daemon does not answer.', hint: daemon?.hint }
        : { id: 'docker-daemon', title: 'Docker daemon reachable', status: 'ok', message: `engine ${docker.serverVersion ?? '?'} (API ${docker.apiVersion ?? '?'})` },
    );
  }

  let inventory: Inventory | undefined;
  if (simulated) {
    const sim = options.simulate!;
    checks.push({ id: 'nvidia-runtime', title: 'NVIDIA container runtime', status: 'skipped', message: 'simulated GPUs run without --gpus' });
    checks.push({ id: 'gpus', title: 'GPUs', status: 'ok', message: `${sim.count} × ${sim.model.id} (SIMULATED: accepted only by a --dev coordinator)` });
    checks.push({ id: 'driver', title: 'NVIDIA driver / CUDA', status: 'skipped', message: 'simulated GPUs' });
  } else {
    const runtime = problem('NVIDIA_RUNTIME_MISSING');
    if (docker.daemonReachable) {
      checks.push(
        runtime
          ? { id: 'nvidia-runtime', title: 'NVIDIA container runtime', status: 'fail', message: runtime.message, hint: runtime.hint }
          : { id: 'nvidia-runtime', title: 'NVIDIA container runtime', status: 'ok', message: `runtimes: ${docker.runtimes.join(', ')}` },
      );
    } else {
      checks.push({ id: 'nvidia-runtime', title: 'NVIDIA container runtime', status: 'skipped', message: 'needs a reachable Docker daemon' });
    }
    try {
      if (!options.detect) throw new Error('Bug: runProviderPreflight needs detect() without simulate.');
      inventory = await options.detect();
      // A MIG-enabled GPU is shown but never offered as a whole GPU (src/gpu/inventory.ts isWholeGpu).
      const whole = inventory.gpus.filter(isWholeGpu);
      const mig = inventory.gpus.filter((gpu) => !isWholeGpu(gpu));
      const migHint = mig.length > 0 ? `Turn MIG off to offer ${mig.length === 1 ? 'that GPU' : 'those GPUs'} whole: ${migDisableCommand(mig.map((g) => g.index))} (or reboot after the first command).` : undefined;
      if (inventory.gpus.length === 0) {
        checks.push({ id: 'gpus', title: 'GPUs', status: 'fail', message: inventory.diagnosis ?? 'No NVIDIA GPU found.', hint: HINT_INSTALL_DRIVER });
      } else if (whole.length === 0) {
        checks.push({ id: 'gpus', title: 'GPUs', status: 'fail', message: inventory.diagnosis ?? 'No GPU can be offered whole.', hint: migHint });
      } else {
        const models = [...new Set(whole.map((g) => (g.model === 'unknown' ? g.name : g.model)))].join(', ');
        checks.push({
          id: 'gpus',
          title: 'GPUs',
          status: inventory.diagnosis ? 'warn' : 'ok',
          message: `${whole.length} × ${models}${inventory.diagnosis ? ` (${inventory.diagnosis})` : ''}`,
          ...(migHint ? { hint: migHint } : {}),
        });
      }
      if (inventory.driver) {
        checks.push(
          inventory.cuda
            ? { id: 'driver', title: 'NVIDIA driver / CUDA', status: 'ok', message: `driver ${inventory.driver}, CUDA ${inventory.cuda}` }
            : {
                id: 'driver',
                title: 'NVIDIA driver / CUDA',
                status: 'warn',
                message: `driver ${inventory.driver}, CUDA version unknown`,
                hint: 'Run `nvidia-smi` and check its header shows a CUDA Version; update the driver if it does not.',
              },
        );
      } else {
        // The GPU check already carries the install hint when nothing was found.
        const gpusFailed = inventory.gpus.length === 0;
        checks.push({ id: 'driver', title: 'NVIDIA driver / CUDA', status: 'fail', message: 'No NVIDIA driver found.', ...(gpusFailed ? {} : { hint: HINT_INSTALL_DRIVER }) });
      }
    } catch (error) {
      const hint = error instanceof UserError ? error.hint : undefined;
      checks.push({ id: 'gpus', title: 'GPUs', status: 'fail', message: (error as Error).message, hint: hint ?? 'Run `nvidia-smi` to see what is wrong.' });
      checks.push({ id: 'driver', title: 'NVIDIA driver / CUDA', status: 'fail', message: 'The NVIDIA driver is not working (see GPUs).' });
    }
  }

  let kernelImage: { image: string; present: boolean } | undefined;
  if (options.kernelImage && !simulated) {
    const { image } = options.kernelImage;
    if (!docker.daemonReachable) {
      checks.push({ id: 'kernel-image', title: 'Challenge kernel image', status: 'skipped', message: 'needs a reachable Docker daemon' });
    } else {
      kernelImage = { image, present: await options.kernelImage.present() };
      checks.push(
        kernelImage.present
          ? { id: 'kernel-image', title: 'Challenge kernel image', status: 'ok', message: `${image} present` }
          : {
              id: 'kernel-image',
              title: 'Challenge kernel image',
              status: 'warn',
              message: `${image} is not here yet: the agent pulls it, or else builds it (minutes), on the first GPU challenge`,
              hint: 'Prepare it now: iocli provide kernel-image',
            },
      );
    }
  }

  const minDisk = options.minDiskBytes ?? 5 * GIB;
  if (disk === null) {
    checks.push({ id: 'disk', title: 'Free disk', status: 'warn', message: 'Could not read free disk space.' });
  } else {
    const shown = `${(disk / GIB).toFixed(1)} GiB free for images`;
    const hint = 'Free space: docker system prune (removes unused images and stopped containers), or move Docker\'s data-root to a larger disk.';
    if (disk < minDisk) checks.push({ id: 'disk', title: 'Free disk', status: 'fail', message: `${shown}; at least ${(minDisk / GIB).toFixed(0)} GiB needed`, hint });
    else if (disk < minDisk * 4) checks.push({ id: 'disk', title: 'Free disk', status: 'warn', message: `${shown}: large images may not fit`, hint });
    else checks.push({ id: 'disk', title: 'Free disk', status: 'ok', message: shown });
  }

  const host: HostFacts = inventory
    ? {
        hostname: inventory.host.hostname,
        cpu: inventory.host.cpu,
        memoryMb: Math.floor(inventory.host.memoryBytes / 1024 / 1024),
        diskFreeBytes: disk ?? inventory.host.diskFreeBytes,
      }
    : hostFromOs(disk);

  let isolation: NodeIsolation | undefined;
  if (options.isolation && docker.daemonReachable) {
    const found = isolationChecks(await options.isolation(docker));
    checks.push(...found.checks);
    isolation = found.isolation;
  }

  return { ok: checks.every((check) => check.status !== 'fail'), simulated, checks, docker, inventory, host, ...(isolation ? { isolation } : {}), ...(kernelImage ? { kernelImage } : {}) };
}

/** The preflight as `provide --preflight --json` prints it (and as a failed start's error details carry it). */
export function preflightData(preflight: ProviderPreflight) {
  return {
    ok: preflight.ok,
    simulated: preflight.simulated,
    checks: preflight.checks,
    gpus: preflight.inventory?.gpus.map((g) => ({ index: g.index, uuid: g.uuid, model: g.model, name: g.name, vramMb: g.vramMb, migMode: g.migMode })) ?? [],
    driver: preflight.inventory?.driver ?? null,
    cuda: preflight.inventory?.cuda ?? null,
    docker: { client: preflight.docker.clientVersion, server: preflight.docker.serverVersion, runtimes: preflight.docker.runtimes },
    host: preflight.host,
    isolation: preflight.isolation ?? null,
    kernelImage: preflight.kernelImage ?? null,
  };
}

/** Exit 3 with every failed check named and each fix as the hint. */
export function preflightError(preflight: ProviderPreflight): ExternalError {
  const failed = preflight.checks.filter((c) => c.status === 'fail');
  const hints = [...new Set(failed.map((c) => c.hint).filter((h): h is string => Boolean(h)))];
  return new ExternalError(`This machine cannot provide yet: ${failed.map((c) => c.title).join(', ')} failed.`, {
    code: 'PREFLIGHT_FAILED',
    hint: hints.join('\n      ') || undefined,
    details: preflightData(preflight),
  });
}
