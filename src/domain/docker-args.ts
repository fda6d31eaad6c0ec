// The `docker run` argument list for a lease container: the provider's security profile as one pure function.

import { UserError } from '../errors.js';
import { parseImageRef } from './image-ref.js';

/** Labels every iocli container carries; the runtime touches nothing without them. */
export const LABEL_MANAGED = 'iocli.managed';
export const LABEL_LEASE = 'iocli.lease';
export const LABEL_NODE = 'iocli.node';
export const LABEL_PORTS = 'iocli.ports';

export type ContainerNetwork = 'none' | 'host';

/** What the agent wants to run for one lease. */
export interface ContainerRunSpec {
  leaseId: string;
  nodeId: string;
  image: string;
  /** Replaces the image's CMD; each element is one argv entry (never a shell line). */
  command?: string[];
  env?: Record<string, string>;
  /** Ports the workload listens on. Only meaningful with `network: 'host'` (no bridge is ever used). */
  ports?: number[];
  /** NVIDIA UUIDs of the leased GPUs; empty means simulated GPUs (no --gpus flag at all). */
  gpuUuids: string[];
  memoryBytes: number;
  cpus: number;
  pidsLimit: number;
  readOnlyRoot: boolean;
  network: ContainerNetwork;
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
  if (spec.network !== 'none' && spec.network !== 'host') {
    throw bad(`Invalid network ${JSON.stringify(spec.network)}: must be "none" or "host".`);
  }

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
  if (ports.length > 0 && spec.network !== 'host') {
    // Publishing needs a bridge network, which providers never use.
    throw bad('Ports need network "host": with network "none" nothing can reach the container.');
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
    '--network', spec.network,
    '--cap-drop', 'ALL',
    '--security-opt', 'no-new-privileges',
    '--memory', String(memoryBytes),
    // Same as --memory: no swap on top of the limit.
    '--memory-swap', String(memoryBytes),
    '--cpus', formatCpus(spec.cpus),
    '--pids-limit', String(pidsLimit),
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
  for (const port of ports) args.push('--expose', String(port));
  args.push(...userArgs, ...envArgs, image, ...command);
  return args;
}
