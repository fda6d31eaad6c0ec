// Rendering: one result value, printed as JSON for scripts or as tables/colours for people.
// stdout carries only the result; progress, warnings and errors go to stderr.
import { createRequire } from 'node:module';
import { toTerminalText } from '../src/domain/text.js';
import type { CommandResult } from './spec.js';

const requireCjs = createRequire(import.meta.url);

export interface Colors {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

export interface HumanRenderer {
  colors: Colors;
  line(text?: string): void;
  heading(text: string): void;
  success(text: string): void;
  /** A table with a header row; cells are stringified. */
  table(head: string[], rows: unknown[][]): void;
  /** An aligned "key: value" listing; undefined values are skipped. */
  keyValues(pairs: Record<string, unknown> | Array<[string, unknown]>): void;
}

export interface Spinner {
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  color: boolean;
  stdout: NodeJS.WriteStream | { write(chunk: string | Uint8Array): boolean; isTTY?: boolean };
  stderr: NodeJS.WriteStream | { write(chunk: string): boolean; isTTY?: boolean };
}

export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly color: boolean;
  private readonly stdout: OutputOptions['stdout'];
  private readonly stderr: OutputOptions['stderr'];

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.quiet = options.quiet;
    this.color = options.color;
    this.stdout = options.stdout;
    this.stderr = options.stderr;
  }

  get interactiveStderr(): boolean {
    return Boolean(this.stderr.isTTY) && !this.json && !this.quiet;
  }

  /** Print the command's result: exactly one JSON document with --json, else the human rendering. */
  async result(result: CommandResult): Promise<void> {
    if (this.json) {
      this.stdout.write(`${JSON.stringify(result.data, jsonReplacer, 2)}\n`);
      return;
    }
    const renderer = await this.humanRenderer();
    if (result.human) result.human(renderer);
    else if (result.data !== undefined && result.data !== null) {
      if (typeof result.data === 'object' && !Array.isArray(result.data)) renderer.keyValues(result.data as Record<string, unknown>);
      else renderer.line(String(result.data));
    }
  }

  /** Progress or notes for people: stderr, silent with --quiet or --json. */
  info(text: string): void {
    if (this.quiet || this.json) return;
    this.stderr.write(`${this.forTerminal(text)}\n`);
  }

  warn(text: string): void {
    if (this.quiet) return;
    this.stderr.write(`${this.color ? `\u001b[33mwarning\u001b[39m` : 'warning'}: ${this.forTerminal(text)}\n`);
  }

  /**
   * Streamed text for people on stdout (logs): control sequences from other parties (containers, providers) are shown
   * as visible escapes, never interpreted by the terminal. Not for use with --json.
   */
  print(text: string): void {
    this.stdout.write(toTerminalText(text, { multiline: true }));
  }

  /** Write text to stdout exactly as given (an explicit opt-in such as `lease logs --raw`, or our own bytes). */
  raw(text: string | Uint8Array): void {
    this.stdout.write(text);
  }

  /** A workload's own stderr, streamed for people: control sequences neutralised like `print`. */
  printError(text: string): void {
    this.stderr.write(toTerminalText(text, { multiline: true }));
  }

  /** Everything rendered for people passes here: other parties' control sequences are neutralised, our colours kept. */
  private forTerminal(text: string): string {
    return toTerminalText(text, { multiline: true, keepOwnColors: this.color });
  }

  /** A spinner on a TTY; plain progress lines on stderr otherwise; nothing with --json/--quiet. */
  async spinner(text: string): Promise<Spinner> {
    // Progress texts quote coordinator and provider messages too: one line, nothing the terminal would interpret.
    const safe = (line: string) => toTerminalText(line, { keepOwnColors: this.color });
    // A terminal that reports 0 columns (some CI runners' ptys) would make ora redraw its line forever.
    if (this.interactiveStderr && ((this.stderr as NodeJS.WriteStream).columns ?? 0) > 0) {
      const { default: ora } = await import('ora');
      const spinner = ora({ text: safe(text), stream: this.stderr as NodeJS.WriteStream, color: 'cyan' }).start();
      const final = (line: string | undefined) => (line === undefined ? undefined : safe(line));
      return {
        update: (next) => { spinner.text = safe(next); },
        succeed: (line) => { spinner.succeed(final(line)); },
        fail: (line) => { spinner.fail(final(line)); },
        stop: () => { spinner.stop(); },
      };
    }
    let last = '';
    const say = (prefix: string, line: string | undefined) => {
      if (this.quiet || this.json || line === undefined || line === last) return;
      last = line;
      this.stderr.write(`${prefix}${safe(line)}\n`);
    };
    say('… ', text);
    return {
      update: (next) => say('… ', next),
      succeed: (final) => say('✔ ', final ?? last),
      fail: (final) => say('✖ ', final ?? last),
      stop: () => {},
    };
  }

  /** Colours for text this command writes (on stderr too): plain functions when colour is off. */
  colors(): Promise<Colors> {
    return loadColors(this.color);
  }

  async humanRenderer(): Promise<HumanRenderer> {
    const colors = await loadColors(this.color);
    const write = (text: string) => this.stdout.write(`${this.forTerminal(text)}\n`);
    const formatValue = (value: unknown) => formatCell(value, this.color);
    return {
      colors,
      line: (text = '') => write(text),
      heading: (text) => write(colors.bold(text)),
      success: (text) => write(`${colors.green('✔')} ${text}`),
      table: (head, rows) => {
        write(renderTable(head, rows, colors, this.color, formatValue));
      },
      keyValues: (pairs) => {
        const entries = (Array.isArray(pairs) ? pairs : Object.entries(pairs)).filter(([, v]) => v !== undefined);
        const width = Math.max(0, ...entries.map(([k]) => k.length));
        for (const [key, value] of entries) write(`${colors.dim(`${key}:`.padEnd(width + 1))} ${formatValue(value)}`);
      },
    };
  }
}

let tableModule: typeof import('cli-table3') | undefined;
function renderTable(head: string[], rows: unknown[][], colors: Colors, color: boolean, formatValue: (value: unknown) => string): string {
  // cli-table3 is CommonJS; loaded synchronously through createRequire only when a table is drawn.
  tableModule ??= requireCjs('cli-table3') as typeof import('cli-table3');
  const Table = tableModule as unknown as new (options: object) => { push(row: string[]): void; toString(): string };
  const table = new Table({
    head: head.map((h) => colors.bold(h)),
    style: { head: [], border: color ? ['grey'] : [] },
    // No separator lines between rows: long listings stay readable.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of rows) table.push(row.map(formatValue));
  return table.toString();
}

/** One table cell or listed value, on one line: a newline or escape sequence in another party's text cannot break the layout. */
function formatCell(value: unknown, color: boolean): string {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) return value.map((v) => formatCell(v, color)).join(', ');
  if (typeof value === 'object') return JSON.stringify(value, jsonReplacer);
  return toTerminalText(String(value), { keepOwnColors: color });
}

/** JSON.stringify replacer: bigint as decimal string, so money never loses precision. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

async function loadColors(enabled: boolean): Promise<Colors> {
  const identity = (text: string) => text;
  if (!enabled) return { bold: identity, dim: identity, green: identity, red: identity, yellow: identity, cyan: identity };
  const { Chalk } = await import('chalk');
  const chalk = new Chalk({ level: 1 });
  return { bold: chalk.bold, dim: chalk.dim, green: chalk.green, red: chalk.red, yellow: chalk.yellow, cyan: chalk.cyan };
}
