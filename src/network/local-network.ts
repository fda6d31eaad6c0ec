// `iocli network up|down|status`: the whole offline network on loopback — local chain, mint + treasury, and a --dev
// coordinator on SQLite with the real payment verifier, payout sender and faucet — plus the pid file that finds it again.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ExternalError, UserError } from '../errors.js';
import { processAlive } from '../process-alive.js';

export interface NetworkFile {
  apiUrl: string;
  rpcUrl: string;
  wsUrl: string;
  mint: string;
  treasury: string;
  pid: number;
  startedAt: string;
}

export interface LocalNetworkOptions {
  dataDir: string;
  /** Coordinator port (0 = random). */
  port: number;
  /** Chain JSON-RPC port (0 = random); the WebSocket is always on the next port (the Solana convention). */
  rpcPort: number;
  /** The chain's commitment model (default 'instant'; 'realistic' finalizes 32 slots after landing). */
  commitment?: 'instant' | 'realistic';
  /** Browser origins allowed to call the chain RPC besides loopback ones ('*' among them allows any). */
  corsOrigins?: string[];
  onError?: (error: unknown, where: string) => void;
}

export interface RunningNetwork {
  info: NetworkFile;
  close(): Promise<void>;
}

export const NETWORK_FILE = 'network.json';
export const NETWORK_LOG = 'network.log';

/** $IOCLI_DATA_DIR, else $XDG_DATA_HOME/iocli/network, else ~/.local/share/iocli/network. */
/** The network's data folder: --data-dir (relative to the working directory) or the default. */
export function networkDataDir(flag: string | undefined, env: Record<string, string | undefined>): string {
  return resolve(flag ?? defaultNetworkDir(env));
}

export function defaultNetworkDir(env: Record<string, string | undefined>, home = env.HOME ?? homedir()): string {
  if (env.IOCLI_DATA_DIR) return env.IOCLI_DATA_DIR;
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'iocli', 'network');
}

export function readNetworkFile(dataDir: string): NetworkFile | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, NETWORK_FILE), 'utf8')) as NetworkFile;
  } catch {
    return undefined;
  }
}

/** Refuse to start a second network on one data directory; forget a pid file whose process is gone (kill -9). */
function claimDataDir(dataDir: string): void {
  const existing = readNetworkFile(dataDir);
  if (existing && existing.pid !== process.pid && processAlive(existing.pid)) {
    throw new UserError(`A local network (pid ${existing.pid}) is already running from ${dataDir}: ${existing.apiUrl}.`, {
      code: 'NETWORK_RUNNING',
      hint: 'Use it, or stop it first with `iocli network down`.',
    });
  }
  if (existing) unlinkSync(join(dataDir, NETWORK_FILE));
}

/** Start chain → bootstrap mint/treasury → coordinator, in this process. close() stops them in reverse. */
export async function startLocalNetwork(options: LocalNetworkOptions): Promise<RunningNetwork> {
  const { dataDir } = options;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  claimDataDir(dataDir);
  const [{ startLocalChain }, { bootstrapLocalNetwork }, { createSolanaHooks }, { startCoordinator }] = await Promise.all([
    import('../chain/local-chain.js'),
    import('../chain/bootstrap.js'),
    import('../coordinator/solana-payments.js'),
    import('../coordinator/server.js'),
  ]);
  const chain = await startLocalChain({ dataDir: join(dataDir, 'chain'), port: options.rpcPort, commitment: options.commitment, corsOrigins: options.corsOrigins?.includes('*') ? '*' : options.corsOrigins });
  const cleanup: Array<() => Promise<void>> = [() => chain.close()];
  const closeAll = async () => {
    for (const step of cleanup.reverse()) await step().catch((error) => options.onError?.(error, 'shutdown'));
  };
  try {
    const keysDir = join(dataDir, 'keys');
    mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    const local = await bootstrapLocalNetwork(chain.rpcUrl, { dataDir: keysDir });
    const hooks = await createSolanaHooks({
      rpcUrl: chain.rpcUrl,
      wsUrl: chain.wsUrl,
      mint: local.mint,
      treasuryKeypairPath: local.treasury.keypairPath,
      treasuryTokenAccount: local.treasury.tokenAccount,
      faucetAuthorityKeypairPath: local.faucetAuthority.keypairPath,
    });
    const server = await startCoordinator({
      port: options.port,
      host: '127.0.0.1',
      dataDir: join(dataDir, 'coordinator'),
      dev: true,
      network: { ...hooks.network, cluster: 'localnet', symbol: 'tIOC' },
      paymentVerifier: hooks.paymentVerifier,
      payoutSender: hooks.payoutSender,
      faucet: hooks.faucet,
      onError: options.onError,
    });
    cleanup.push(() => server.close());
    const info: NetworkFile = { apiUrl: server.url, rpcUrl: chain.rpcUrl, wsUrl: chain.wsUrl, mint: local.mint, treasury: local.treasury.publicKey, pid: process.pid, startedAt: new Date().toISOString() };
    const file = join(dataDir, NETWORK_FILE);
    await writeFile(`${file}.tmp`, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    await rename(`${file}.tmp`, file);
    cleanup.unshift(async () => {
      if (readNetworkFile(dataDir)?.pid === process.pid) unlinkSync(file);
    });
    let closed: Promise<void> | undefined;
    return { info, close: () => (closed ??= closeAll()) };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

export interface NetworkStatus {
  dataDir: string;
  running: boolean;
  pid: number | null;
  apiUrl: string | null;
  rpcUrl: string | null;
  coordinator: 'up' | 'down';
  chain: 'up' | 'down';
  mint: string | null;
  treasury: string | null;
}

async function answers(url: string, init?: RequestInit): Promise<boolean> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

export async function networkStatus(dataDir: string): Promise<NetworkStatus> {
  const info = readNetworkFile(dataDir);
  const alive = info ? processAlive(info.pid) : false;
  const [coordinator, chain] = info
    ? await Promise.all([
        answers(`${info.apiUrl}/healthz`),
        answers(info.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getHealth' }) }),
      ])
    : [false, false];
  return {
    dataDir,
    running: alive && coordinator && chain,
    pid: info?.pid ?? null,
    apiUrl: info?.apiUrl ?? null,
    rpcUrl: info?.rpcUrl ?? null,
    coordinator: coordinator ? 'up' : 'down',
    chain: chain ? 'up' : 'down',
    mint: info?.mint ?? null,
    treasury: info?.treasury ?? null,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** SIGTERM the network's process and wait for it to exit (and its pid file to go). */
export async function stopLocalNetwork(dataDir: string, { timeoutMs = 15_000 }: { timeoutMs?: number } = {}): Promise<{ stopped: boolean; pid: number | null }> {
  const info = readNetworkFile(dataDir);
  if (!info) return { stopped: false, pid: null };
  if (!processAlive(info.pid)) {
    unlinkSync(join(dataDir, NETWORK_FILE));
    return { stopped: false, pid: info.pid };
  }
  process.kill(info.pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (processAlive(info.pid)) {
    if (Date.now() > deadline) {
      throw new ExternalError(`The local network (pid ${info.pid}) did not stop within ${Math.round(timeoutMs / 1000)} s.`, { code: 'NETWORK_STOP_TIMEOUT', hint: `Check ${join(dataDir, NETWORK_LOG)}; kill ${info.pid} if it hangs.` });
    }
    await sleep(100);
  }
  if (existsSync(join(dataDir, NETWORK_FILE)) && readNetworkFile(dataDir)?.pid === info.pid) unlinkSync(join(dataDir, NETWORK_FILE));
  return { stopped: true, pid: info.pid };
}

/**
 * Start `node <entry> ...args` in the background (own session, output to DIR/network.log) and wait until it wrote its
 * network.json and the coordinator answers /healthz.
 */
export async function spawnDetachedNetwork(entry: string, args: string[], dataDir: string, { timeoutMs = 60_000, env = process.env }: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<NetworkFile> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  claimDataDir(dataDir);
  const log = openSync(join(dataDir, NETWORK_LOG), 'a', 0o600);
  const child = spawn(process.execPath, [entry, ...args], { detached: true, stdio: ['ignore', log, log], env });
  closeSync(log);
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  child.unref();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = readNetworkFile(dataDir);
    if (info && info.pid === child.pid && (await answers(`${info.apiUrl}/healthz`))) return info;
    if (exited !== null) {
      throw new ExternalError(`The local network exited during start-up (code ${exited}).`, { code: 'NETWORK_START_FAILED', hint: `See ${join(dataDir, NETWORK_LOG)}.` });
    }
    if (Date.now() > deadline) {
      if (child.pid) process.kill(child.pid, 'SIGTERM');
      throw new ExternalError(`The local network did not come up within ${Math.round(timeoutMs / 1000)} s.`, { code: 'NETWORK_START_TIMEOUT', hint: `See ${join(dataDir, NETWORK_LOG)}.` });
    }
    await sleep(150);
  }
}
