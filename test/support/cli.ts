// Spawns the real iocli binary (bin/iocli.js → dist/) the way users and CI scripts run it.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/iocli.js', import.meta.url));
const DIST_MAIN = fileURLToPath(new URL('../../dist/cli/main.cjs', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function assertBuilt(): void {
  if (!existsSync(DIST_MAIN)) throw new Error('dist/ is missing: run `npm run build` (npm test does it) before the e2e tests.');
}

export function runCli(args: string[], options: { env?: Record<string, string | undefined>; input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  assertBuilt();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, NO_COLOR: '1', CI: '1', ...options.env }, timeout: options.timeoutMs ?? 60_000, cwd: options.cwd, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** A throwaway config folder (and HOME) so tests never touch the user's settings or wallet. */
export function tempHome(): { dir: string; env: Record<string, string>; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'iocli-test-'));
  return {
    dir,
    env: { HOME: dir, IOCLI_CONFIG_DIR: join(dir, 'config'), XDG_CONFIG_HOME: join(dir, '.config') },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
