// What the runtime reports about a container, read from `docker inspect` JSON, and the ownership check.

import { LABEL_LEASE, LABEL_MANAGED, LABEL_NODE } from '../domain/docker-args.js';

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead' | 'unknown';

/** One iocli lease container. */
export interface ManagedContainer {
  /** Full 64-hex container id. */
  id: string;
  name: string;
  leaseId: string;
  nodeId: string;
  image: string;
  state: ContainerState;
  running: boolean;
  /** Exit code once it has exited; null while created or running. */
  exitCode: number | null;
  oomKilled: boolean;
  /** ISO timestamps; null when docker has none (never started / not finished). */
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  labels: Record<string, string>;
  /** Docker's network mode: `none`, or the name of the lease's own network. */
  networkMode: string;
}

/** The subset of `docker inspect` output this module reads. */
export interface RawInspect {
  Id?: string;
  Name?: string;
  Created?: string;
  State?: { Status?: string; Running?: boolean; ExitCode?: number; OOMKilled?: boolean; StartedAt?: string; FinishedAt?: string };
  Config?: { Image?: string; Labels?: Record<string, string> | null };
  HostConfig?: { NetworkMode?: string };
}

const STATES = new Set<ContainerState>(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']);

// Docker writes this for "never".
function timestamp(value: string | undefined): string | null {
  if (!value || value.startsWith('0001-01-01')) return null;
  return value;
}

/** True when the labels say iocli manages the container for `nodeId`. */
export function isManagedBy(labels: Record<string, string> | null | undefined, nodeId: string): boolean {
  return labels?.[LABEL_MANAGED] === 'true' && labels[LABEL_NODE] === nodeId && typeof labels[LABEL_LEASE] === 'string';
}

/** Converts one inspect entry. */
export function toManagedContainer(raw: RawInspect): ManagedContainer {
  const labels = raw.Config?.Labels ?? {};
  const status = (raw.State?.Status ?? 'unknown') as ContainerState;
  const state = STATES.has(status) ? status : 'unknown';
  const exited = state === 'exited' || state === 'dead';
  return {
    id: raw.Id ?? '',
    name: (raw.Name ?? '').replace(/^\//, ''),
    leaseId: labels[LABEL_LEASE] ?? '',
    nodeId: labels[LABEL_NODE] ?? '',
    image: raw.Config?.Image ?? '',
    state,
    running: raw.State?.Running === true,
    exitCode: exited ? (raw.State?.ExitCode ?? null) : null,
    oomKilled: raw.State?.OOMKilled === true,
    createdAt: timestamp(raw.Created),
    startedAt: timestamp(raw.State?.StartedAt),
    finishedAt: timestamp(raw.State?.FinishedAt),
    labels: { ...labels },
    networkMode: raw.HostConfig?.NetworkMode ?? '',
  };
}
