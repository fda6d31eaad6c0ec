// The coordinator as a separate process (dist/src/coordinator/main-process.js), for tests that kill -9 it and restart
// it on the same data: spawned with its options as JSON, its URL read from its first stdout line. With `pauseAt` it runs
// behind a payout sender that pauses (paused-coordinator-process.mjs), and reports each pause on stderr.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll } from 'vitest';
import { createStorage } from './coordinator.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ENTRY = join(ROOT, 'dist', 'src', 'coordinator', 'main-process.js');
const PAUSED_ENTRY = join(import.meta.dirname, 'paused-coordinator-process.mjs');

export interface CoordinatorProcess {
  child: ChildProcess;
  url: string;
  /** Resolves with the paused payout's id when the process reports a pause (only with `pauseAt`). */
  paused: Promise<string>;
}

/** Builds dist/ when the process entry is missing (a fresh checkout running one test file). */
export function ensureCoordinatorBuilt(): void {
  if (!existsSync(ENTRY)) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'ignore' });
}

/**
 * Starts the process with `options` (CoordinatorOptions plus `solana`) and extra `env`; resolves once it listens, rejects
 * if it exits first. The child is pushed to `children` (when given) at once, so an afterAll can kill it even if it never
 * listened. `pauseAt`: its payout sender pauses for a minute before sending a signed transfer (`signed`) or after it
 * was confirmed, before the outbox records it (`sent`).
 */
export function spawnCoordinatorProcess(
  options: Record<string, unknown>,
  { env = {}, children, pauseAt }: { env?: Record<string, string>; children?: ChildProcess[]; pauseAt?: 'signed' | 'sent' } = {},
): Promise<CoordinatorProcess> {
  const args = pauseAt ? [PAUSED_ENTRY, JSON.stringify(options), pauseAt] : [ENTRY, JSON.stringify(options)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children?.push(child);
  let stderr = '';
  let onPause: (id: string) => void = () => {};
  const paused = new Promise<string>((resolve) => (onPause = resolve));
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderr += `${line}\n`;
    const match = /^IOCLI_TEST_PAUSED \w+ (\S+)/.exec(line);
    if (match) onPause(match[1]!);
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ child, url: (JSON.parse(line) as { url: string }).url, paused }));
    child.once('exit', (code) => reject(new Error(`coordinator exited with ${code}: ${stderr}`)));
  });
}

/** SIGKILL; resolves once the process is gone (at once if it already is). */
export function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/**
 * Coordinator processes over one SQLite store on the local chain, for kill -9 money tests: `start()` runs one (with a
 * pause at a payout step when asked), the suite's hooks create the store and kill -9 every process it started.
 */
export function chainCrashCoordinators(solana: () => unknown, overrides: Record<string, unknown> = {}) {
  const children: ChildProcess[] = [];
  let storage: Awaited<ReturnType<typeof createStorage>> | undefined;
  beforeAll(async () => {
    storage = await createStorage('sqlite');
  });
  afterAll(async () => {
    for (const child of children) await kill9(child);
    await storage?.release();
  });
  const location = () => {
    if (!storage) throw new Error('the store is created in beforeAll');
    return storage.location;
  };
  return {
    location,
    start: (pauseAt?: 'signed'): Promise<CoordinatorProcess> =>
      spawnCoordinatorProcess(
        { port: 0, dev: false, rateLimit: false, feeBps: 0, sweepIntervalMs: 200, payoutRetryMs: 300, challenges: { workScale: 1e-9 }, ...overrides, ...location(), solana: solana() },
        { pauseAt, children },
      ),
  };
}
