// The provider agent's data directory: stable machine id, persisted agent state (node id, log cursors), the agent log.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { expandHome } from '../wallet/keypair.js';
import { processAlive } from '../process-alive.js';

export const MACHINE_ID_FILE = 'machine-id';
export const STATE_FILE = 'state.json';
export const AGENT_LOG_FILE = 'agent.log';
export const PID_FILE = 'agent.pid';

/** The agent's data folder: --data-dir (~ expanded, relative to the working directory) or the default. */
export function providerDataDir(flag: string | undefined, env: Record<string, string | undefined>): string {
  return resolve(flag ? expandHome(flag) : defaultDataDir(env));
}

/** IOCLI_PROVIDER_DIR, else $XDG_DATA_HOME/iocli/provider (~/.local/share/iocli/provider). */
export function defaultDataDir(env: Record<string, string | undefined> = process.env, home = homedir()): string {
  if (env.IOCLI_PROVIDER_DIR) return env.IOCLI_PROVIDER_DIR;
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'iocli', 'provider');
}

/** What the agent remembers between runs. */
export interface AgentState {
  nodeId?: string;
  owner?: string;
  /** What the node registered with, for `iocli provide status` without a coordinator round trip. */
  node?: {
    machineId: string;
    gpus: Array<{ index: number; uuid: string; model: string; vramMb: number }>;
    simulated: boolean;
    region: string;
    pricePerGpuHour: number;
    apiUrl?: string;
    registeredAt: string;
  };
  /** The last GPU benchmark (src/provider/verify.ts). */
  verification?: { at: string; results: Array<{ uuid: string; status: string; tflops?: number; ratio?: number | null; error?: string }> };
  /** Per lease: the docker timestamp of the last log line shipped (RFC 3339 nano), so a restart ships nothing twice. */
  logCursors: Record<string, string>;
  updatedAt?: string;
}

export async function ensureDataDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new UserError(`Cannot create the provider data directory ${dir}: ${(error as Error).message}`, {
      code: 'DATA_DIR_UNWRITABLE',
      hint: 'Pass a writable folder with --data-dir.',
    });
  }
}

export async function readAgentState(dir: string): Promise<AgentState> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as Partial<AgentState>;
    return { ...parsed, logCursors: parsed.logCursors && typeof parsed.logCursors === 'object' ? parsed.logCursors : {} };
  } catch {
    // Missing or damaged: the agent re-registers (same machine id → same node) and re-adopts by labels anyway.
    return { logCursors: {} };
  }
}

/** Atomic replace, so a kill -9 mid-write leaves the previous state. */
export async function writeAgentState(dir: string, state: AgentState): Promise<void> {
  const path = join(dir, STATE_FILE);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify({ ...state, updatedAt: new Date().toISOString() }, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, path);
}

/** The host's own id: systemd's /etc/machine-id, or D-Bus's; undefined when neither exists (containers, some distros). */
async function hostMachineId(paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths) {
    try {
      const text = (await readFile(path, 'utf8')).trim();
      if (text) return text;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** A stable id for (this host, this owner): hashed, so the host's machine-id itself never leaves the machine. */
export function deriveMachineId(hostId: string, owner: string): string {
  return `m-${createHash('sha256').update(`iocli-node\n${hostId}\n${owner}`).digest('hex').slice(0, 32)}`;
}

export interface MachineIdOptions {
  dataDir: string;
  owner: string;
  /** --machine-id: used as given (several agents on one host), never stored. */
  override?: string;
  /** For tests. */
  hostIdPaths?: readonly string[];
}

const MACHINE_ID = /^[A-Za-z0-9_.:-]{1,100}$/;

/**
 * The machine id this agent registers with. Computed once and stored in the data directory, so it survives
 * host renames and reinstalls of iocli; a host without /etc/machine-id gets a random one, stored the same way.
 */
export async function resolveMachineId(options: MachineIdOptions): Promise<string> {
  if (options.override !== undefined) {
    if (!MACHINE_ID.test(options.override)) {
      throw new UserError(`Invalid --machine-id ${JSON.stringify(options.override)}.`, {
        code: 'USAGE',
        hint: 'Use 1-100 letters, digits, _ . : or -.',
      });
    }
    return options.override;
  }
  const file = join(options.dataDir, MACHINE_ID_FILE);
  try {
    const stored = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
    const id = stored[options.owner];
    if (id && MACHINE_ID.test(id)) return id;
  } catch {
    // first run
  }
  const hostId = (await hostMachineId(options.hostIdPaths ?? ['/etc/machine-id', '/var/lib/dbus/machine-id'])) ?? randomUUID();
  const id = deriveMachineId(hostId, options.owner);
  let stored: Record<string, string> = {};
  try {
    stored = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
  } catch {
    stored = {};
  }
  stored[options.owner] = id;
  await ensureDataDir(options.dataDir);
  await writeFile(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  return id;
}

/** Records the running agent's pid; returns a function that removes it (only if it is still ours). */
export async function writePidFile(dir: string, pid = process.pid): Promise<() => Promise<void>> {
  const path = join(dir, PID_FILE);
  await writeFile(path, `${pid}\n`, { mode: 0o600 });
  return async () => {
    const current = await readFile(path, 'utf8').catch(() => '');
    if (current.trim() === String(pid)) await rm(path, { force: true });
  };
}

/** The pid of a live agent using this data directory, if any. */
export async function runningAgentPid(dir: string): Promise<number | undefined> {
  const text = await readFile(join(dir, PID_FILE), 'utf8').catch(() => '');
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return processAlive(pid) ? pid : undefined;
}
