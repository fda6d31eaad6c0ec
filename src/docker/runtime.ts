// The container runtime the provider agent uses: a narrow interface and its docker-CLI implementation, which binds the
// pieces (images, lookup, lease networks, logs) to one node. Host safety lives here and in those pieces, not in callers:
// nothing without iocli's labels for this node is ever read, stopped or removed.

import { buildRunArgs, isValidLabelId, LEASE_ULIMITS, leaseNetworkName, type ContainerRunSpec, type ContainerUlimits } from '../domain/docker-args.js';
import { UserError } from '../errors.js';
import { containerNotFound, FULL_ID, listManagedContainers, resolveManagedContainer } from './container-lookup.js';
import { streamContainerLogs, type LogChunk, type LogsOptions } from './container-logs.js';
import type { ManagedContainer } from './containers.js';
import { readDaemonProcess, ulimitsWithin, type DaemonProcess } from './daemon-host.js';
import { createDockerCli, toExternalError, type DockerCli, type DockerCliOptions } from './exec.js';
import { imageExists, pullImage } from './images.js';
import { ensureLeaseNetwork, listManagedNetworks, removeManagedNetwork, type ManagedNetwork } from './lease-networks.js';
import { runPreflight, type DockerPreflight } from './preflight.js';
import type { PullProgress } from './pull-progress.js';

export type { ContainerRunSpec } from '../domain/docker-args.js';
export type { ManagedContainer, ContainerState } from './containers.js';
export type { DockerPreflight, PreflightProblem } from './preflight.js';
export type { DaemonProcess } from './daemon-host.js';
export type { PullProgress } from './pull-progress.js';
export type { LogChunk, LogsOptions } from './container-logs.js';
export type { ManagedNetwork } from './lease-networks.js';

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

  // async, so a runtime without a node rejects (as every method does) rather than throwing synchronously.
  const resolveManaged = async (ref: string) => resolveManagedContainer(cli, requireNode(), ref);
  const removeNetwork = async (name: string) => removeManagedNetwork(cli, requireNode(), name);

  async function requireManaged(ref: string): Promise<ManagedContainer> {
    const container = await resolveManaged(ref);
    if (!container) throw containerNotFound(ref);
    return container;
  }

  return {
    preflight: () => runPreflight(cli),

    async grantableUlimits() {
      return ulimitsWithin(LEASE_ULIMITS, await localDaemon());
    },

    daemonProcess: () => localDaemon(),

    imageExists: (ref) => imageExists(cli, ref),

    pull: (ref, onProgress, signal) => pullImage(cli, ref, onProgress, signal),

    async run(spec) {
      const nodeId = requireNode();
      if (spec.nodeId !== nodeId) {
        throw new UserError(`Refusing to start a container for node ${spec.nodeId} from the runtime of node ${nodeId}.`, {
          code: 'CONTAINER_NOT_MANAGED',
        });
      }
      // A daemon that may not raise limits makes runc fail the whole start; ask only for what it can grant.
      const args = buildRunArgs(spec.ulimits ? spec : { ...spec, ulimits: ulimitsWithin(LEASE_ULIMITS, await localDaemon()) });
      if (spec.network === 'lease') await ensureLeaseNetwork(cli, nodeId, spec);
      let stdout: string;
      try {
        stdout = await cli.check(args);
      } catch (error) {
        // A container that was not created leaves its network unused; one that was (a name conflict) keeps it.
        if (spec.network === 'lease' && !(await resolveManaged(spec.name).catch(() => undefined))) {
          await removeNetwork(leaseNetworkName(spec.name)).catch(() => undefined);
        }
        throw error;
      }
      const id = stdout.trim().split('\n').at(-1)?.trim() ?? '';
      if (!FULL_ID.test(id)) {
        throw toExternalError(cli.describe(args), { exitCode: 0, stdout, stderr: `unexpected output: ${stdout.slice(0, 200)}`, notInstalled: false, timedOut: false, cancelled: false });
      }
      return id;
    },

    listManaged: async (nodeId = requireNode()) => listManagedContainers(cli, nodeId),

    inspect: (id) => requireManaged(id),

    async logs(id, logOptions, onChunk, signal) {
      const container = await requireManaged(id);
      await streamContainerLogs(cli, container.id, logOptions, onChunk, signal);
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
      if (container.networkMode === leaseNetworkName(container.name)) await removeNetwork(container.networkMode);
    },

    listManagedNetworks: async () => listManagedNetworks(cli, requireNode()),

    removeNetwork,
  };
}
