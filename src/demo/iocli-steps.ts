// The demo's steps are real iocli commands, each spawned as its own process exactly as a user would type it: this runs
// them (shown on this terminal, or captured as --json), and the provider agent in the background.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CancelledError, UserError } from '../errors.js';

/** bin/iocli.js of this installation, found from this file whether it runs from dist/ or from sources. */
export function iocliBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'bin', 'iocli.js');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('bin/iocli.js not found next to this installation');
}

export interface StepRunnerOptions {
  bin: string;
  /** The steps' environment; the demo sets the API and RPC URLs once the network runs. */
  env: Record<string, string | undefined>;
  /** Shown steps write to this process's stdout/stderr; with false every step is captured. */
  show: boolean;
  signal: AbortSignal;
  /** A shown step's command line, before it runs. */
  onCommand: (line: string) => void;
}

export interface StepRunner {
  /** Runs `iocli …args`: shown, or with `capture` its output returned (a failing exit is an error unless allowed). */
  run(args: string[], options?: { capture?: boolean; allowFailure?: boolean }): Promise<{ code: number; stdout: string }>;
  /** Runs `iocli …args --json` and parses its one document. */
  json<T>(args: string[]): Promise<T>;
  /** Starts `iocli …args` in the background, its output appended to `logFile`. */
  background(args: string[], logFile: string): ChildProcess;
}

export function createStepRunner({ bin, env, show, signal, onCommand }: StepRunnerOptions): StepRunner {
  const run: StepRunner['run'] = (args, { capture = false, allowFailure = false } = {}) =>
    new Promise((resolve, reject) => {
      // Ctrl-C: start nothing new (clean-up runs `network down` itself, with allowFailure).
      if (signal.aborted && !allowFailure) return reject(new CancelledError('Demo interrupted; cleaned up.'));
      const visible = show && !capture;
      if (visible) onCommand(`$ iocli ${args.join(' ')}`);
      const child = spawn(process.execPath, [bin, ...args, ...(capture ? ['--json'] : [])], {
        env: env as NodeJS.ProcessEnv,
        stdio: ['ignore', visible ? 'inherit' : 'pipe', visible ? 'inherit' : 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0 && !allowFailure) {
          reject(new UserError(`Demo step failed: iocli ${args.join(' ')} exited ${code}.`, { hint: stderr.trim().split('\n').slice(-2).join(' ') || undefined }));
        } else resolve({ code: code ?? 1, stdout });
      });
    });
  return {
    run,
    json: async <T>(args: string[]) => JSON.parse((await run(args, { capture: true })).stdout) as T,
    background(args, logFile) {
      const fd = openSync(logFile, 'a');
      if (show) onCommand(`$ iocli ${args.join(' ')} &`);
      return spawn(process.execPath, [bin, ...args], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', fd, fd] });
    },
  };
}

/** SIGTERM (the agent drains and, with --stop-workloads, removes its containers), SIGKILL after `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 20_000): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(undefined);
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}
