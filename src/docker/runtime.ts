// The container runtime the provider agent uses: a narrow interface and its docker-CLI implementation.
// Host safety lives here, not in callers: nothing without iocli's labels for this node is ever read, stopped or removed.

import {
  buildNetworkCreateArgs,
  buildRunArgs,
  isValidLabelId,
  LABEL_LEASE,
  LABEL_MANAGED,
  LABEL_NODE,
  LEASE_ULIMITS,
  leaseNetworkName,
  type ContainerRunSpec,
  type ContainerUlimits,
} from '../domain/docker-args.js';
import { parseImageRef } from '../domain/image-ref.js';
import { ExternalError, UserError } from '../errors.js';
import { isManagedBy, toManagedContainer, type ManagedContainer, type RawInspect } from './containers.js';
import { readDaemonProcess, ulimitsWithin, type DaemonProcess } from './daemon-host.js';
import { createDockerCli, toExternalError, type DockerCli, type DockerCliOptions } from './exec.js';
import { runPreflight, type DockerPreflight } from './preflight.js';
import { createPullProgressParser, type PullProgress } from './pull-progress.js';

export type { ContainerRunSpec } from '../domain/docker-args.js';
export type { ManagedContainer, ContainerState } from './containers.js';
export type { DockerPreflight, PreflightProblem } from './preflight.js';
export type { DaemonProcess } from './daemon-host.js';
export type { PullProgress } from './pull-progress.js';

export interface LogsOptions {
  /** Last N lines only (default: all). */
  tail?: number;
  /** Keep streaming until the container stops or `signal` aborts. */
  follow?: boolean;
  /** RFC 3339 time, Unix seconds, or a relative duration like `10m`. */
  since?: string;
  timestamps?: boolean;
  /** Deliver the output's exact bytes as latin1 text (one character per byte) instead of UTF-8 decoded text. */
  bytes?: boolean;
}

export interface LogChunk {
  stream: 'stdout' | 'stderr';
  /** UTF-8 decoded text, or with `bytes` one character per byte (Buffer.from(text, 'latin1') gives the bytes back). */
  text: string;
}

/** A lease network carrying this node's iocli labels. */
export interface ManagedNetwork {
  name: string;
  leaseId: string;
}

export interface ContainerRuntime {
  preflight(): Promise<DockerPreflight>;
  /** LEASE_ULIMITS, each lowered to what this Docker daemon can grant (what `run` uses when a spec names none). */
  grantableUlimits(): Promise<ContainerUlimits>;
  /** The local dockerd process (flags, limits), when this machine can see it. */
  daemonProcess(): Promise<DaemonProcess | undefined>;
  imageExists(ref: string): Promise<boolean>;
  pull(ref: string, onProgress?: (progress: PullProgress) => void, signal?: AbortSignal): Promise<void>;
  /** Starts a lease container (`docker run -d`); returns its full id. The spec's node must be this runtime's node. */
  run(spec: ContainerRunSpec): Promise<string>;
  /** Containers labelled iocli.managed=true and iocli.node=<nodeId>, running or not. */
  listManaged(nodeId?: string): Promise<ManagedContainer[]>;
  inspect(id: string): Promise<ManagedContainer>;
  /** Streams logs to `onChunk`; resolves when done, or when `signal` aborts a follow. */
  logs(id: string, options: LogsOptions, onChunk: (chunk: LogChunk) => void, signal?: AbortSignal): Promise<void>;
  stop(id: string, timeoutSec: number): Promise<void>;
  /**
   * Removes the container, killing it if it still runs, then its lease network. Removing one that is already gone is
   * not an error.
   */
  remove(id: string): Promise<void>;
  /** Lease networks labelled iocli.managed=true and iocli.node=<this node>. */
  listManagedNetworks(): Promise<ManagedNetwork[]>;
  /** Removes a lease network of this node; gone already, or still used by a container, is not an error. */
  removeNetwork(name: string): Promise<void>;
}

export interface DockerRuntimeOptions extends DockerCliOptions {
  /**
   * The node whose containers this runtime may touch. Needed for every call that takes a container
   * (run, inspect, logs, stop, remove); preflight, imageExists and pull work without it.
   */
  nodeId?: string;
  /** Where to look for the local dockerd's process (default /proc); ignored for a remote DOCKER_HOST. */
  procRoot?: string;
}

/** True when DOCKER_HOST (the option, else the environment) names a daemon on this machine, whose /proc we can read. */
function daemonIsLocal(dockerHost: string | undefined): boolean {
  const host = dockerHost ?? process.env.DOCKER_HOST;
  return host === undefined || host === '' || host.startsWith('unix://');
}

// A container id (hex, full or prefix) or name. Never an option: a leading '-' is impossible here.
const CONTAINER_REF = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const FULL_ID = /^[a-f0-9]{64}$/;
// A lease network's name: a container name (up to 128 characters) plus `-net`.
const NETWORK_REF = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,131}$/;

function notManaged(ref: string, nodeId: string): UserError {
  return new UserError(`Refusing to touch container ${ref}: it is not an iocli container of node ${nodeId}.`, {
    code: 'CONTAINER_NOT_MANAGED',
    hint: 'iocli only manages containers it started (labels iocli.managed=true and iocli.node); manage other containers with docker directly.',
    details: { container: ref, nodeId },
  });
}

function notFound(ref: string): UserError {
  return new UserError(`Container ${ref} does not exist.`, { code: 'CONTAINER_NOT_FOUND', details: { container: ref } });
}

function parseInspectArray(stdout: string): RawInspect[] {
  const text = stdout.trim();
  if (text.length === 0) return [];
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? (parsed as RawInspect[]) : [];
  } catch {
    return [];
  }
}

/** The docker-CLI runtime. Cheap to create: nothing runs (and execa is not loaded) until the first call. */
export function createDockerRuntime(options: DockerRuntimeOptions = {}): ContainerRuntime {
  const cli: DockerCli = createDockerCli(options);
  const boundNode = options.nodeId;
  if (boundNode !== undefined && !isValidLabelId(boundNode)) {
    throw new UserError(`Invalid node id ${JSON.stringify(boundNode)}.`, { code: 'CONTAINER_SPEC_INVALID' });
  }

  let daemonProcess: Promise<DaemonProcess | undefined> | undefined;
  /** The local dockerd as /proc shows it, read once per runtime. */
  function localDaemon(): Promise<DaemonProcess | undefined> {
    daemonProcess ??= daemonIsLocal(options.dockerHost) ? readDaemonProcess(options.procRoot) : Promise.resolve(undefined);
    return daemonProcess;
  }

  function requireNode(): string {
    if (boundNode === undefined) throw new Error('Bug: this container runtime was created without a nodeId.');
    return boundNode;
  }

  /**
   * Resolves `ref` to a container that carries this node's labels, by full id.
   * Callers act on the returned full id, so a name or prefix cannot switch containers in between.
   */
  async function resolveManaged(ref: string): Promise<ManagedContainer | undefined> {
    const nodeId = requireNode();
    if (typeof ref !== 'string' || !CONTAINER_REF.test(ref)) {
      throw new UserError(`Invalid container id ${JSON.stringify(ref)}.`, { code: 'CONTAINER_ID_INVALID' });
    }
    const args = ['container', 'inspect', ref];
    const result = await cli.call(args);
    if (result.exitCode !== 0 || result.notInstalled || result.timedOut) {
      if (/No such (container|object)/i.test(result.stderr)) return undefined;
      throw toExternalError(cli.describe(args), result);
    }
    const [raw] = parseInspectArray(result.stdout);
    if (!raw || !raw.Id || !FULL_ID.test(raw.Id)) return undefined;
    if (!isManagedBy(raw.Config?.Labels, nodeId)) throw notManaged(ref, nodeId);
    return toManagedContainer(raw);
  }

  /** The labels of network `name`, or undefined when it does not exist. */
  async function networkLabels(name: string): Promise<Record<string, string> | null | undefined> {
    const args = ['network', 'inspect', '--format', '{{json .Labels}}', name];
    const result = await cli.call(args);
    if (result.exitCode !== 0 || result.notInstalled || result.timedOut) {
      if (/No such network|not found/i.test(result.stderr)) return undefined;
      throw toExternalError(cli.describe(args), result);
    }
    try {
      return (JSON.parse(result.stdout.trim()) as Record<string, string> | null) ?? null;
    } catch {
      return null;
    }
  }

  /** Creates the lease's own network, or re-adopts the one this node made before (an agent restart, a retried start). */
  async function ensureLeaseNetwork(spec: ContainerRunSpec): Promise<string> {
    const nodeId = requireNode();
    const name = leaseNetworkName(spec.name);
    const args = buildNetworkCreateArgs(spec);
    const result = await cli.call(args);
    if (result.exitCode === 0 && !result.notInstalled) return name;
    if (!/already exists/i.test(result.stderr)) throw toExternalError(cli.describe(args), result);
    const labels = await networkLabels(name);
    if (labels === undefined) throw toExternalError(cli.describe(args), result);
    if (!isManagedBy(labels, nodeId) || labels?.[LABEL_LEASE] !== spec.leaseId) {
      throw new UserError(`Refusing to use network ${name}: it is not this node's network for lease ${spec.leaseId}.`, {
        code: 'CONTAINER_NOT_MANAGED',
        hint: `Remove or rename that network (docker network rm ${name}) if it is not iocli's.`,
      });
    }
    return name;
  }

  async function removeManagedNetwork(name: string): Promise<void> {
    const nodeId = requireNode();
    if (typeof name !== 'string' || !NETWORK_REF.test(name)) {
      throw new UserError(`Invalid network name ${JSON.stringify(name)}.`, { code: 'CONTAINER_ID_INVALID' });
    }
    const labels = await networkLabels(name);
    if (labels === undefined) return;
    if (!isManagedBy(labels, nodeId)) {
      throw new UserError(`Refusing to remove network ${name}: it is not an iocli network of node ${nodeId}.`, { code: 'CONTAINER_NOT_MANAGED' });
    }
    const args = ['network', 'rm', name];
    const result = await cli.call(args);
    if (result.exitCode === 0 && !result.notInstalled) return;
    // Still in use: a container of the same lease is being (re)started; the next sweep takes it when it is free.
    if (/No such network|not found|active endpoints/i.test(result.stderr)) return;
    throw toExternalError(cli.describe(args), result);
  }

  async function requireManaged(ref: string): Promise<ManagedContainer> {
    const container = await resolveManaged(ref);
    if (!container) throw notFound(ref);
    return container;
  }

  return {
    preflight: () => runPreflight(cli),

    async grantableUlimits() {
      return ulimitsWithin(LEASE_ULIMITS, await localDaemon());
    },

    daemonProcess: () => localDaemon(),

    async imageExists(ref) {
      const image = parseImageRef(ref).raw;
      const args = ['image', 'inspect', '--format', '{{.Id}}', image];
      const result = await cli.call(args);
      if (result.exitCode === 0 && !result.notInstalled) return true;
      if (/No such image/i.test(result.stderr)) return false;
      throw toExternalError(cli.describe(args), result);
    },

    async pull(ref, onProgress, signal) {
      const image = parseImageRef(ref).raw;
      const parser = createPullProgressParser();
      let pending = '';
      const onStdout = (text: string) => {
        pending += text;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          const progress = parser.push(line);
          if (progress && onProgress) onProgress(progress);
        }
      };
      const args = ['pull', image];
      const result = await cli.call(args, { timeoutMs: 0, signal, onStdout });
      if (pending) {
        const progress = parser.push(pending);
        if (progress && onProgress) onProgress(progress);
      }
      if (result.cancelled) throw new UserError(`Pull of ${image} was cancelled.`, { code: 'PULL_CANCELLED' });
      if (result.exitCode !== 0 || result.notInstalled) {
        const error = toExternalError(cli.describe(args), result);
        if (error.code !== 'DOCKER_FAILED') throw error;
        throw new ExternalError(`Could not pull ${image}: ${error.message.replace(/^Docker failed: /, '')}`, {
          code: 'IMAGE_PULL_FAILED',
          hint: 'Check the image name, that the registry is reachable, and `docker login` if it is private.',
          command: error.command,
          stderr: error.stderr,
        });
      }
    },

    async run(spec) {
      const nodeId = requireNode();
      if (spec.nodeId !== nodeId) {
        throw new UserError(`Refusing to start a container for node ${spec.nodeId} from the runtime of node ${nodeId}.`, {
          code: 'CONTAINER_NOT_MANAGED',
        });
      }
      // A daemon that may not raise limits makes runc fail the whole start; ask only for what it can grant.
      const args = buildRunArgs(spec.ulimits ? spec : { ...spec, ulimits: ulimitsWithin(LEASE_ULIMITS, await localDaemon()) });
      if (spec.network === 'lease') await ensureLeaseNetwork(spec);
      let stdout: string;
      try {
        stdout = await cli.check(args);
      } catch (error) {
        // A container that was not created leaves its network unused; one that was (a name conflict) keeps it.
        if (spec.network === 'lease' && !(await resolveManaged(spec.name).catch(() => undefined))) {
          await removeManagedNetwork(leaseNetworkName(spec.name)).catch(() => undefined);
        }
        throw error;
      }
      const id = stdout.trim().split('\n').at(-1)?.trim() ?? '';
      if (!FULL_ID.test(id)) {
        throw toExternalError(cli.describe(args), { exitCode: 0, stdout, stderr: `unexpected output: ${stdout.slice(0, 200)}`, notInstalled: false, timedOut: false, cancelled: false });
      }
      return id;
    },

    async listManaged(nodeId = requireNode()) {
      if (!isValidLabelId(nodeId)) throw new UserError(`Invalid node id ${JSON.stringify(nodeId)}.`, { code: 'CONTAINER_SPEC_INVALID' });
      const ids = (
        await cli.check([
          'ps', '-a', '--no-trunc',
          '--filter', `label=${LABEL_MANAGED}=true`,
          '--filter', `label=${LABEL_NODE}=${nodeId}`,
          '--format', '{{.ID}}',
        ])
      )
        .split('\n')
        .map((line) => line.trim())
        .filter((id) => FULL_ID.test(id));
      if (ids.length === 0) return [];
      const args = ['container', 'inspect', ...ids];
      const result = await cli.call(args);
      // A container removed between ps and inspect is simply gone; anything else is a failure.
      const unexpected = result.stderr.split('\n').filter((line) => line.trim() && !/No such (container|object)/i.test(line));
      if (result.notInstalled || result.timedOut || (result.exitCode !== 0 && unexpected.length > 0)) {
        throw toExternalError(cli.describe(args), result);
      }
      return parseInspectArray(result.stdout)
        .filter((raw) => isManagedBy(raw.Config?.Labels, nodeId))
        .map(toManagedContainer)
        .sort((a, b) => a.name.localeCompare(b.name));
    },

    inspect: (id) => requireManaged(id),

    async logs(id, logOptions, onChunk, signal) {
      const container = await requireManaged(id);
      const args = ['logs'];
      if (logOptions.tail !== undefined) {
        if (!Number.isSafeInteger(logOptions.tail) || logOptions.tail < 0) {
          throw new UserError(`Invalid tail ${JSON.stringify(logOptions.tail)}: must be a whole number ≥ 0.`, { code: 'LOGS_OPTIONS_INVALID' });
        }
        args.push('--tail', String(logOptions.tail));
      }
      if (logOptions.since !== undefined) {
        if (!/^[0-9A-Za-z][0-9A-Za-z:.+-]{0,63}$/.test(logOptions.since)) {
          throw new UserError(`Invalid since ${JSON.stringify(logOptions.since)}: use an RFC 3339 time, Unix seconds or a duration like 10m.`, {
            code: 'LOGS_OPTIONS_INVALID',
          });
        }
        args.push('--since', logOptions.since);
      }
      if (logOptions.timestamps) args.push('--timestamps');
      if (logOptions.follow) args.push('--follow');
      args.push(container.id);
      if (signal?.aborted) return;
      const result = await cli.call(args, {
        timeoutMs: logOptions.follow ? 0 : undefined,
        signal,
        ...(logOptions.bytes ? { encoding: 'latin1' as const } : {}),
        onStdout: (text) => onChunk({ stream: 'stdout', text }),
        onStderr: (text) => onChunk({ stream: 'stderr', text }),
      });
      // Aborting a follow is how a reader says it is done.
      if (result.cancelled) return;
      if (result.exitCode !== 0 || result.notInstalled || result.timedOut) throw toExternalError(cli.describe(args), result);
    },

    async stop(id, timeoutSec) {
      if (!Number.isSafeInteger(timeoutSec) || timeoutSec < 0 || timeoutSec > 3600) {
        throw new UserError(`Invalid stop timeout ${JSON.stringify(timeoutSec)}: must be 0-3600 seconds.`, { code: 'STOP_TIMEOUT_INVALID' });
      }
      const container = await requireManaged(id);
      await cli.check(['stop', '-t', String(timeoutSec), container.id], { timeoutMs: (timeoutSec + 60) * 1000 });
    },

    async remove(id) {
      const container = await resolveManaged(id);
      if (!container) return;
      const args = ['rm', '--force', container.id];
      const result = await cli.call(args);
      const removed =
        (result.exitCode === 0 && !result.notInstalled) || /No such container|removal of container .* is already in progress/i.test(result.stderr);
      if (!removed) throw toExternalError(cli.describe(args), result);
      if (container.networkMode === leaseNetworkName(container.name)) await removeManagedNetwork(container.networkMode);
    },

    async listManagedNetworks() {
      const nodeId = requireNode();
      const names = (
        await cli.check(['network', 'ls', '--filter', `label=${LABEL_MANAGED}=true`, '--filter', `label=${LABEL_NODE}=${nodeId}`, '--format', '{{.Name}}'])
      )
        .split('\n')
        .map((line) => line.trim())
        .filter((name) => NETWORK_REF.test(name));
      const networks: ManagedNetwork[] = [];
      for (const name of names) {
        const labels = await networkLabels(name);
        if (labels && isManagedBy(labels, nodeId)) networks.push({ name, leaseId: labels[LABEL_LEASE]! });
      }
      return networks.sort((a, b) => a.name.localeCompare(b.name));
    },

    removeNetwork: (name) => removeManagedNetwork(name),
  };
}
