// The `docker run` argument list for the GPU challenge kernel (src/provider/challenge-kernel/kernel.py): the leases'
// security profile, tighter. One container per challenged GPU, attached over stdin/stdout, removed when it exits.
import { UserError } from '../errors.js';
import { isValidGpuUuid, isValidLabelId, LABEL_NODE } from './docker-args.js';
import { parseImageRef } from './image-ref.js';

/** The challenge a kernel container answers; never `iocli.managed`, so the lease reconciler never adopts or stops it. */
export const LABEL_CHALLENGE = 'iocli.challenge';

export interface KernelRunSpec {
  image: string;
  nodeId: string;
  challengeId: string;
  /** The one GPU this container may use (a UUID from nvidia-smi). */
  gpuUuid: string;
  /** False only where no NVIDIA runtime exists (tests): the same container without --gpus. */
  gpuFlag: boolean;
  /** Host memory for the kernel process (the VRAM it fills is not host memory). */
  memoryBytes: number;
  cpus: number;
  name: string;
}

const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export function buildKernelRunArgs(spec: KernelRunSpec): string[] {
  const bad = (message: string) => new UserError(message, { code: 'CONTAINER_SPEC_INVALID' });
  if (!isValidLabelId(spec.nodeId)) throw bad(`Invalid node id ${JSON.stringify(spec.nodeId)}.`);
  if (!isValidLabelId(spec.challengeId)) throw bad(`Invalid challenge id ${JSON.stringify(spec.challengeId)}.`);
  if (!isValidGpuUuid(spec.gpuUuid)) throw bad(`Invalid GPU UUID ${JSON.stringify(spec.gpuUuid)}: expected GPU-<uuid> or MIG-<uuid>.`);
  if (!CONTAINER_NAME.test(spec.name)) throw bad(`Invalid container name ${JSON.stringify(spec.name)}.`);
  if (!Number.isSafeInteger(spec.memoryBytes) || spec.memoryBytes < 64 * 1024 * 1024) throw bad('The kernel needs at least 64 MiB of memory.');
  if (!(spec.cpus >= 0.1 && spec.cpus <= 64)) throw bad(`Invalid CPU limit ${spec.cpus}.`);
  const image = parseImageRef(spec.image).raw;
  return [
    'run',
    '-i',
    '--rm',
    // The agent pulls the kernel image explicitly; run never fetches.
    '--pull', 'never',
    '--name', spec.name,
    '--label', `${LABEL_CHALLENGE}=${spec.challengeId}`,
    '--label', `${LABEL_NODE}=${spec.nodeId}`,
    '--restart', 'no',
    // The kernel reads its input from stdin: no network at all, no capabilities, nothing writable but a small /tmp.
    '--network', 'none',
    '--cap-drop', 'ALL',
    '--security-opt', 'no-new-privileges',
    '--user', '65534:65534',
    '--read-only',
    '--tmpfs', '/tmp:rw,nosuid,nodev,size=67108864,mode=1777',
    '--memory', String(spec.memoryBytes),
    '--memory-swap', String(spec.memoryBytes),
    '--cpus', String(Math.round(spec.cpus * 1000) / 1000),
    '--pids-limit', '64',
    '--log-driver', 'none',
    '--env', 'PYTHONDONTWRITEBYTECODE=1',
    // The root is read-only: caches (CuPy's compiled kernels, anything under HOME) stay in memory or in /tmp.
    '--env', 'HOME=/tmp',
    '--env', 'CUPY_CACHE_IN_MEMORY=1',
    '--env', 'CUPY_CACHE_DIR=/tmp/cupy',
    ...(spec.gpuFlag ? ['--gpus', `"device=${spec.gpuUuid}"`] : []),
    image,
  ];
}
