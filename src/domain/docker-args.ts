// The `docker run` argument list for a lease container: the provider's security profile as one pure function.

import { createHash } from 'node:crypto';

import { UserError } from '../errors.js';
import { parseImageRef } from './image-ref.js';

/** Labels every iocli container carries; the runtime touches nothing without them. */
export const LABEL_MANAGED = 'iocli.managed';
export const LABEL_LEASE = 'iocli.lease';
export const LABEL_NODE = 'iocli.node';
export const LABEL_PORTS = 'iocli.ports';

/**
 * `none`: no network at all (nothing exposed, no egress). `lease`: the lease's own bridge network (leaseNetworkName),
 * created by the agent before the container and removed after it. The host's network namespace is never used.
 */
export type ContainerNetwork = 'none' | 'lease';

/**
 * The capabilities a lease container gets back after `--cap-drop ALL`: what common images need to start as root and
 * drop privileges (sshd's privilege separation, gosu/su-exec, apt's sandbox user, entrypoints that chown a directory).
 * Each one is explained in the README's security section. Never SYS_ADMIN, NET_ADMIN, NET_RAW, SYS_PTRACE, SYS_MODULE, MKNOD.
 */
export const LEASE_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'KILL', 'SETGID', 'SETUID', 'SYS_CHROOT'] as const;

/** Resource limits (soft = hard) for lease containers; -1 is unlimited. */
export interface ContainerUlimits {
  memlock: number;
  stack: number;
  nofile: number;
}

/**
 * NVIDIA's deep-learning container settings (`--ulimit memlock=-1 --ulimit stack=67108864`) and a nofile that
 * DataLoader workers sharing tensors through file descriptors do not run out of.
 */
export const LEASE_ULIMITS: Readonly<ContainerUlimits> = { memlock: -1, stack: 64 * 1024 * 1024, nofile: 65_536 };

/** Docker's own /dev/shm size: a lease never gets less. */
export const MIN_SHM_BYTES = 64 * 1024 * 1024;

/** What the agent wants to run for one lease. */
export interface ContainerRunSpec {
  leaseId: string;
  nodeId: string;
  image: string;
  /** Replaces the image's CMD; each element is one argv entry (never a shell line). */
  command?: string[];
  env?: Record<string, string>;
  /** Ports the workload listens on: published on the host's 127.0.0.1 only (random host ports); needs network `lease`. */
  ports?: number[];
  /** NVIDIA UUIDs of the leased GPUs; empty means simulated GPUs (no --gpus flag at all). */
  gpuUuids: string[];
  memoryBytes: number;
  cpus: number;
  pidsLimit: number;
  readOnlyRoot: boolean;
  network: ContainerNetwork;
  /** With network `lease`: false makes the lease network `--internal` (no route out). Default true. */
  egress?: boolean;
  /** Size of /dev/shm; default shmBytesFor(memoryBytes). It counts against the memory limit as it fills. */
  shmBytes?: number;
  /** Default LEASE_ULIMITS (the node lowers them when its Docker daemon cannot grant more). */
  ulimits?: ContainerUlimits;
  /** Container name; docker's rules: [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
  name: string;
  /** Run as this numeric non-root user (uid and gid ≥ 1); absent = the image's default user. */
  user?: { uid: number; gid: number };
  /** Size of the /tmp tmpfs when readOnlyRoot; default min(memoryBytes, 1 GiB). It counts against the memory limit. */
  tmpfsBytes?: number;
}

// Docker refuses memory limits under 6 MiB.
const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
const MAX_CPUS = 1024;
const MAX_PIDS = 4_194_304;
const DEFAULT_TMPFS_CAP = 1024 * 1024 * 1024;
const LOG_MAX_SIZE = '10m';
const LOG_MAX_FILES = '3';
const MAX_ENV_VALUE_LENGTH = 32 * 1024;
const MAX_ARG_LENGTH = 32 * 1024;
const MAX_COMMAND_ARGS = 256;

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
// GPU-<uuid> or MIG-<uuid> / MIG-GPU-<uuid>/<gi>/<ci>. No commas or quotes: they would break the --gpus value.
const GPU_UUID = /^(?:GPU|MIG)-[A-Za-z0-9][A-Za-z0-9/-]{0,126}$/;
const ENV_KEY = /^[^=\s\u0000-\u001f\u007f]{1,256}$/;

/** True when `value` is a valid lease or node id for a label (and for a docker --filter). */
export function isValidLabelId(value: unknown): value is string {
  return typeof value === 'string' && ID.test(value);
}

/** True for an NVIDIA GPU or MIG UUID that is safe inside a --gpus value. */
export function isValidGpuUuid(value: unknown): value is string {
  return typeof value === 'string' && GPU_UUID.test(value);
}

function bad(message: string, code = 'CONTAINER_SPEC_INVALID'): UserError {
  return new UserError(message, { code });
}

function checkId(what: string, value: unknown): string {
  if (typeof value !== 'string' || !ID.test(value)) {
    throw bad(`Invalid ${what} ${JSON.stringify(value)}: use 1-128 of [A-Za-z0-9._:-], starting with a letter or digit.`);
  }
  return value;
}

function checkInteger(what: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw bad(`Invalid ${what} ${JSON.stringify(value)}: must be an integer from ${min} to ${max}.`);
  }
  return value;
}

function checkArgText(what: string, value: unknown, maxLength: number): string {
  if (typeof value !== 'string') throw bad(`Invalid ${what}: must be a string.`);
  // argv cannot carry NUL; anything longer is a mistake or an attack on the host's argv limit.
  if (value.includes('\u0000')) throw bad(`Invalid ${what}: contains a NUL character.`);
  if (value.length > maxLength) throw bad(`Invalid ${what}: longer than ${maxLength} characters.`);
  return value;
}

/** Formats a CPU count for --cpus: at most 3 decimals, no exponent. */
function formatCpus(cpus: number): string {
  return String(Math.round(cpus * 1000) / 1000);
}

/** /dev/shm for a lease: half its memory (DataLoader workers and NCCL live there), at least Docker's 64 MiB. */
export function shmBytesFor(memoryBytes: number): number {
  return Math.max(MIN_SHM_BYTES, Math.floor(memoryBytes / 2));
}

/** The name of a lease's own Docker network: the container's name with a suffix (network names are a separate namespace). */
export function leaseNetworkName(containerName: string): string {
  return `${containerName}-net`;
}

/**
 * The host-side bridge interface of a lease network: `ioc` + 12 hex digits (Linux allows 15 characters), so firewall
 * rules can match every lease network at once with `-i ioc+`.
 */
export function leaseBridgeName(networkName: string): string {
  return `ioc${createHash('sha256').update(networkName).digest('hex').slice(0, 12)}`;
}

export const LEASE_BRIDGE_PATTERN = 'ioc+';

/** Arguments after `docker` that create the lease's own network (`docker network create …`). */
export function buildNetworkCreateArgs(spec: Pick<ContainerRunSpec, 'leaseId' | 'nodeId' | 'name' | 'egress'>): string[] {
  const leaseId = checkId('lease id', spec.leaseId);
  const nodeId = checkId('node id', spec.nodeId);
  if (typeof spec.name !== 'string' || !CONTAINER_NAME.test(spec.name)) {
    throw bad(`Invalid container name ${JSON.stringify(spec.name)}: use 1-128 of [a-zA-Z0-9_.-], starting with a letter or digit.`);
  }
  const name = leaseNetworkName(spec.name);
  const args = [
    'network', 'create',
    '--driver', 'bridge',
    '--label', `${LABEL_MANAGED}=true`,
    '--label', `${LABEL_LEASE}=${leaseId}`,
    '--label', `${LABEL_NODE}=${nodeId}`,
    '--opt', `com.docker.network.bridge.name=${leaseBridgeName(name)}`,
  ];
  // No route out at all: what a lease that asked for no egress gets, enforced by Docker itself.
  if (spec.egress === false) args.push('--internal');
  args.push(name);
  return args;
}

function ulimitValue(what: string, value: unknown): string {
  if (value === -1) return '-1:-1';
  const n = checkInteger(`${what} ulimit`, value, 1, Number.MAX_SAFE_INTEGER);
  return `${n}:${n}`;
}

/**
 * Builds the arguments after `docker` for `docker run -d …` of one lease container.
 * Throws UserError (code CONTAINER_SPEC_INVALID or IMAGE_REF_INVALID) on any invalid field.
 * The result is an argv array: it is never joined into a shell line.
 */
export function buildRunArgs(spec: ContainerRunSpec): string[] {
  if (spec === null || typeof spec !== 'object') throw bad('Invalid container spec: not an object.');
  const leaseId = checkId('lease id', spec.leaseId);
  const nodeId = checkId('node id', spec.nodeId);
  if (typeof spec.name !== 'string' || !CONTAINER_NAME.test(spec.name)) {
    throw bad(`Invalid container name ${JSON.stringify(spec.name)}: use 1-128 of [a-zA-Z0-9_.-], starting with a letter or digit.`);
  }
  const image = parseImageRef(spec.image).raw;

  const memoryBytes = checkInteger('memory limit (bytes)', spec.memoryBytes, MIN_MEMORY_BYTES, Number.MAX_SAFE_INTEGER);
  if (typeof spec.cpus !== 'number' || !Number.isFinite(spec.cpus) || spec.cpus < 0.01 || spec.cpus > MAX_CPUS) {
    throw bad(`Invalid CPU limit ${JSON.stringify(spec.cpus)}: must be a number from 0.01 to ${MAX_CPUS}.`);
  }
  const pidsLimit = checkInteger('pids limit', spec.pidsLimit, 1, MAX_PIDS);
  if (typeof spec.readOnlyRoot !== 'boolean') throw bad('Invalid readOnlyRoot: must be true or false.');
  if (spec.network !== 'none' && spec.network !== 'lease') {
    throw bad(`Invalid network ${JSON.stringify(spec.network)}: must be "none" or "lease".`);
  }
  if (spec.egress !== undefined && typeof spec.egress !== 'boolean') throw bad('Invalid egress: must be true or false.');
  const shmBytes = checkInteger('shm size (bytes)', spec.shmBytes ?? shmBytesFor(memoryBytes), 1024 * 1024, Number.MAX_SAFE_INTEGER);
  const ulimits = spec.ulimits ?? LEASE_ULIMITS;
  if (ulimits === null || typeof ulimits !== 'object') throw bad('Invalid ulimits: must be an object.');
  const ulimitArgs = [
    '--ulimit', `memlock=${ulimitValue('memlock', ulimits.memlock)}`,
    '--ulimit', `stack=${ulimitValue('stack', ulimits.stack)}`,
    '--ulimit', `nofile=${ulimitValue('nofile', ulimits.nofile)}`,
  ];

  if (!Array.isArray(spec.gpuUuids)) throw bad('Invalid gpuUuids: must be an array (empty for simulated GPUs).');
  for (const uuid of spec.gpuUuids) {
    if (typeof uuid !== 'string' || !GPU_UUID.test(uuid)) {
      throw bad(`Invalid GPU UUID ${JSON.stringify(uuid)}: expected GPU-<uuid> or MIG-<uuid> as printed by nvidia-smi -L.`);
    }
  }
  if (new Set(spec.gpuUuids).size !== spec.gpuUuids.length) throw bad('Invalid gpuUuids: the same GPU is listed twice.');

  const ports = spec.ports ?? [];
  if (!Array.isArray(ports)) throw bad('Invalid ports: must be an array of port numbers.');
  for (const port of ports) checkInteger('port', port, 1, 65535);
  if (new Set(ports).size !== ports.length) throw bad('Invalid ports: a port is listed twice.');
  if (ports.length > 0 && spec.network !== 'lease') {
    throw bad('Ports need network "lease": with network "none" nothing can reach the container.');
  }

  const env = spec.env ?? {};
  if (env === null || typeof env !== 'object' || Array.isArray(env)) throw bad('Invalid env: must be an object of strings.');
  const envArgs: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (!ENV_KEY.test(key)) {
      throw bad(`Invalid environment variable name ${JSON.stringify(key)}: no '=', whitespace or control characters, at most 256 characters.`);
    }
    envArgs.push('--env', `${key}=${checkArgText(`value of environment variable ${key}`, value, MAX_ENV_VALUE_LENGTH)}`);
  }

  const command = spec.command ?? [];
  if (!Array.isArray(command)) throw bad('Invalid command: must be an array of arguments.');
  if (command.length > MAX_COMMAND_ARGS) throw bad(`Invalid command: more than ${MAX_COMMAND_ARGS} arguments.`);
  command.forEach((arg, i) => checkArgText(`command argument ${i}`, arg, MAX_ARG_LENGTH));

  let userArgs: string[] = [];
  if (spec.user !== undefined) {
    const uid = checkInteger('user id (non-root)', spec.user?.uid, 1, 2_147_483_647);
    const gid = checkInteger('group id (non-root)', spec.user?.gid, 1, 2_147_483_647);
    userArgs = ['--user', `${uid}:${gid}`];
  }

  const args = [
    'run',
    '-d',
    // The agent pulls explicitly (with progress); run must never fetch on its own.
    '--pull', 'never',
    '--name', spec.name,
    '--label', `${LABEL_MANAGED}=true`,
    '--label', `${LABEL_LEASE}=${leaseId}`,
    '--label', `${LABEL_NODE}=${nodeId}`,
  ];
  if (ports.length > 0) args.push('--label', `${LABEL_PORTS}=${ports.join(',')}`);
  args.push(
    '--restart', 'no',
    '--network', spec.network === 'lease' ? leaseNetworkName(spec.name) : 'none',
    '--cap-drop', 'ALL',
    ...LEASE_CAPABILITIES.flatMap((cap) => ['--cap-add', cap]),
    // Keeps setuid binaries and file capabilities from raising privileges beyond this set; seccomp stays Docker's default.
    '--security-opt', 'no-new-privileges',
    '--memory', String(memoryBytes),
    // Same as --memory: no swap on top of the limit.
    '--memory-swap', String(memoryBytes),
    '--cpus', formatCpus(spec.cpus),
    '--pids-limit', String(pidsLimit),
    '--shm-size', String(shmBytes),
    ...ulimitArgs,
    // json-file explicitly: `docker logs` must work for renters whatever the daemon's default driver is.
    '--log-driver', 'json-file',
    '--log-opt', `max-size=${LOG_MAX_SIZE}`,
    '--log-opt', `max-file=${LOG_MAX_FILES}`,
  );
  if (spec.readOnlyRoot) {
    const tmpfsBytes = checkInteger(
      'tmpfs size (bytes)',
      spec.tmpfsBytes ?? Math.min(memoryBytes, DEFAULT_TMPFS_CAP),
      1024 * 1024,
      memoryBytes,
    );
    // mode=1777 lets a non-root --user write when the image has no /tmp (an existing /tmp keeps the image's mode).
    // exec: docker's default noexec breaks JIT caches (torch.compile, triton) that load .so files from /tmp.
    args.push('--read-only', '--tmpfs', `/tmp:rw,exec,nosuid,nodev,size=${tmpfsBytes},mode=1777`);
  }
  if (spec.gpuUuids.length > 0) {
    // Docker's --gpus parser is CSV: a value with commas must be wrapped in literal double quotes.
    args.push('--gpus', `"device=${spec.gpuUuids.join(',')}"`);
  }
  // 127.0.0.1 and a random host port: reachable from the agent (the relay) only, never from the rig's LAN.
  for (const port of ports) args.push('--publish', `127.0.0.1::${port}`);
  args.push(...userArgs, ...envArgs, image, ...command);
  return args;
}
