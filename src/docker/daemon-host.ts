// What the local dockerd process itself reveals through /proc: its flags (iptables, userns-remap) and the resource limits
// it can hand to containers. `docker info` says neither, and both decide what a lease container can be given.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerUlimits } from '../domain/docker-args.js';

/** A hard limit; -1 is unlimited. */
export interface DaemonLimits {
  memlock: number;
  stack: number;
  nofile: number;
}

export interface DaemonProcess {
  pid: number;
  /** dockerd's command line, one argument per entry. */
  args: string[];
  /** Its hard limits, which containers inherit and cannot exceed unless the daemon may raise them. */
  hardLimits: DaemonLimits;
  /** CAP_SYS_RESOURCE in its bounding set: runc can raise container limits above the daemon's own. */
  canRaiseLimits: boolean;
}

const CAP_SYS_RESOURCE = 24n;

function parseLimit(text: string): number {
  return text === 'unlimited' ? -1 : Number(text);
}

/** Parses /proc/PID/limits into the three limits leases care about (hard values). */
export function parseProcLimits(text: string): DaemonLimits | undefined {
  const hard = (label: string): number | undefined => {
    const line = text.split('\n').find((l) => l.startsWith(label));
    if (!line) return undefined;
    const fields = line.slice(label.length).trim().split(/\s+/);
    const value = parseLimit(fields[1] ?? '');
    return Number.isFinite(value) ? value : undefined;
  };
  const memlock = hard('Max locked memory');
  const stack = hard('Max stack size');
  const nofile = hard('Max open files');
  if (memlock === undefined || stack === undefined || nofile === undefined) return undefined;
  return { memlock, stack, nofile };
}

/**
 * The local dockerd, when this process can see it (same PID namespace, readable /proc). Undefined when Docker is remote,
 * rootless in another namespace, or /proc is hidden: callers then assume nothing.
 */
export async function readDaemonProcess(procRoot = '/proc'): Promise<DaemonProcess | undefined> {
  let entries: string[];
  try {
    entries = await readdir(procRoot);
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = (await readFile(join(procRoot, entry, 'comm'), 'utf8')).trim();
      if (comm !== 'dockerd') continue;
      const [cmdline, limits, status] = await Promise.all([
        readFile(join(procRoot, entry, 'cmdline'), 'utf8'),
        readFile(join(procRoot, entry, 'limits'), 'utf8'),
        readFile(join(procRoot, entry, 'status'), 'utf8'),
      ]);
      const hardLimits = parseProcLimits(limits);
      if (!hardLimits) continue;
      const bounding = /^CapBnd:\s*([0-9a-f]+)/m.exec(status)?.[1];
      return {
        pid: Number(entry),
        args: cmdline.split('\u0000').filter(Boolean),
        hardLimits,
        canRaiseLimits: bounding !== undefined && ((BigInt(`0x${bounding}`) >> CAP_SYS_RESOURCE) & 1n) === 1n,
      };
    } catch {
      // A process that exited while we looked, or one we may not read.
    }
  }
  return undefined;
}

function atMost(wanted: number, ceiling: number): number {
  if (ceiling === -1) return wanted;
  if (wanted === -1) return ceiling;
  return Math.min(wanted, ceiling);
}

/** The ulimits a daemon can grant: `wanted` where it may raise limits, else each capped at the daemon's own hard limit. */
export function ulimitsWithin(wanted: ContainerUlimits, daemon: DaemonProcess | undefined): ContainerUlimits {
  if (!daemon || daemon.canRaiseLimits) return { ...wanted };
  return {
    memlock: atMost(wanted.memlock, daemon.hardLimits.memlock),
    stack: atMost(wanted.stack, daemon.hardLimits.stack),
    nofile: atMost(wanted.nofile, daemon.hardLimits.nofile),
  };
}

/** The value of a dockerd flag (`--iptables=false`, `--iptables false`), or undefined when absent. */
export function daemonFlag(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === `--${name}`) {
      const next = args[i + 1];
      return next !== undefined && !next.startsWith('-') ? next : 'true';
    }
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}
