// The entry point: parse argv, run one command, and turn every outcome into a documented exit code. The only place that does.
import { readFileSync } from 'node:fs';
import type { ContextIO, GlobalOptions } from './context.js';
import type { Invoke } from './program.js';

export interface RunIO extends Partial<ContextIO> {}

export async function run(argv: string[], ioOverrides: RunIO = {}): Promise<number> {
  const controller = new AbortController();
  const io: ContextIO = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    env: process.env,
    signal: controller.signal,
    ...ioOverrides,
  };
  const version = readVersion();
  // Fast path: `iocli --version` loads nothing else.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    io.stdout.write(`${version}\n`);
    return 0;
  }
  const wantsJson = argv.includes('--json');
  const removeSignalHandlers = installSignalHandlers(controller);
  let exitCode = 0;
  try {
    const { buildProgram, loadNoun } = await import('./program.js');
    const invoke: Invoke = async (spec, parsed) => {
      // Argv → typed options first: a bad value fails (exit 2) before the context, the network or Docker is touched.
      const options = spec.parse({ ...parsed, env: io.env });
      const { createContext } = await import('./context.js');
      const globals = parsed.globals as Partial<GlobalOptions>;
      const ctx = createContext({ ...globals, json: Boolean(globals.json), yes: Boolean(globals.yes), quiet: Boolean(globals.quiet), color: globals.color !== false }, io);
      const result = await spec.run(options, ctx);
      if (result && !(result.data === undefined && result.exitCode !== undefined)) await ctx.out.result(result);
      if (result?.exitCode !== undefined) exitCode = result.exitCode;
    };
    // Commander's own error lines are suppressed; reportError prints them with a hint.
    const program = buildProgram(
      version,
      invoke,
      { writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text), helpWidth: helpWidthOf(io) },
      await loadNoun(argv),
    );
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    const { reportError } = await import('./errors.js');
    return reportError(error, { json: wantsJson, stdout: io.stdout, stderr: io.stderr, env: io.env, argv });
  } finally {
    removeSignalHandlers();
  }
}

/** The terminal's width when help goes to one, else COLUMNS when set (e.g. `COLUMNS=60 iocli rent --help | less`). */
function helpWidthOf(io: ContextIO): number | undefined {
  if (io.stdout.isTTY && io.stdout.columns > 0) return io.stdout.columns;
  const columns = Number(io.env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : undefined;
}

function readVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  try {
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    // Running from sources (vitest) rather than dist/: one level less.
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  }
}

/** First Ctrl-C asks the running command to stop cleanly (its AbortSignal); a second one exits at once. */
function installSignalHandlers(controller: AbortController): () => void {
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    controller.abort(new Error(`received ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
