// Long-running iocli processes for e2e tests (e.g. `iocli provide`): spawned in the background with output in a log file,
// stopped with SIGTERM and then SIGKILL, and polled with deadlines instead of fixed sleeps.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { assertBuilt, BIN } from './cli.js';

export interface BackgroundCli {
  child: ChildProcess;
  logFile: string;
  /** True once the process has exited (for any reason). */
  exited(): boolean;
  /** The last `lines` lines of its combined stdout/stderr, for failure messages. */
  logTail(lines?: number): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `iocli ...args` in the background, stdout and stderr appended to `logFile`. */
export function spawnCli(args: string[], options: { env: Record<string, string | undefined>; logFile: string }): BackgroundCli {
  assertBuilt();
  const fd = openSync(options.logFile, 'a');
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, NO_COLOR: '1', CI: '1', ...options.env } as NodeJS.ProcessEnv,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd); // the child holds its own copy
  let exited = false;
  const gone = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', () => {
      exited = true;
      resolve();
    });
  });
  return {
    child,
    logFile: options.logFile,
    exited: () => exited,
    logTail: (lines = 30) => (existsSync(options.logFile) ? readFileSync(options.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : ''),
    async stop(graceMs = 20_000) {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, graceMs);
      await gone;
      clearTimeout(timer);
    },
  };
}

