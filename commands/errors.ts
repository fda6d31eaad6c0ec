// Turns any thrown value into one clear message on stderr (and a JSON error document with --json) plus an exit code.
import { CancelledError, ExitCode, UserError } from '../src/errors.js';
import { toTerminalText } from '../src/domain/text.js';

interface ReportOptions {
  json: boolean;
  stdout: { write(text: string): boolean };
  stderr: { write(text: string): boolean };
  env: Record<string, string | undefined>;
  argv: string[];
}

interface CommanderLikeError {
  code: string;
  exitCode: number;
  message: string;
}

export function reportError(error: unknown, { json, stdout, stderr, env, argv }: ReportOptions): number {
  const { exitCode, code, message, hint, details, stack } = describe(error, argv);
  if (exitCode === 0) return 0; // --help / --version, already printed
  if (json) stdout.write(`${JSON.stringify({ error: { code, message, hint, exitCode, ...(details ? { details } : {}) } }, null, 2)}\n`);
  const color = Boolean((stderr as NodeJS.WriteStream).isTTY) && !env.NO_COLOR && !argv.includes('--no-color');
  const red = (text: string) => (color ? `\u001b[31m${text}\u001b[39m` : text);
  const dim = (text: string) => (color ? `\u001b[2m${text}\u001b[22m` : text);
  // Messages may quote what a coordinator or provider said: shown, never interpreted by the terminal.
  stderr.write(`${red('Error:')} ${toTerminalText(message, { multiline: true })}\n`);
  if (hint) stderr.write(`${dim('hint:')} ${toTerminalText(hint, { multiline: true })}\n`);
  if (stack && exitCode === ExitCode.bug) {
    stderr.write(env.IOCLI_DEBUG ? `${stack}\n` : `${dim('This is a bug in iocli. Run again with IOCLI_DEBUG=1 for a stack trace and report it.')}\n`);
  }
  return exitCode;
}

function describe(error: unknown, argv: string[]) {
  if (error instanceof UserError) {
    return { exitCode: error.exitCode, code: error.code, message: error.message, hint: error.hint, details: error.details };
  }
  if (error instanceof CancelledError) return { exitCode: ExitCode.cancelled, code: 'CANCELLED', message: error.message };
  if (isCommanderError(error)) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || (error.code === 'commander.help' && error.exitCode === 0)) {
      return { exitCode: 0, code: 'OK', message: '' };
    }
    const [first, ...rest] = error.message.replace(/^error: /, '').split('\n');
    const command = argv.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ');
    const suggestion = rest.join(' ').trim();
    const helpHint = error.code === 'commander.help' ? undefined : `Run \`iocli ${error.code === 'commander.unknownCommand' ? '' : `${command} `}--help\` for usage.`.replace('  ', ' ');
    return {
      exitCode: ExitCode.usage,
      code: 'USAGE',
      message: error.code === 'commander.help' ? 'A subcommand is required.' : capitalize(first ?? 'invalid usage'),
      hint: [suggestion, helpHint].filter(Boolean).join(' ') || undefined,
    };
  }
  const err = error instanceof Error ? error : new Error(String(error));
  return { exitCode: ExitCode.bug, code: 'INTERNAL', message: `Internal error: ${err.message}`, stack: err.stack };
}

function isCommanderError(error: unknown): error is CommanderLikeError {
  return typeof error === 'object' && error !== null && typeof (error as CommanderLikeError).code === 'string' && (error as CommanderLikeError).code.startsWith('commander.');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
