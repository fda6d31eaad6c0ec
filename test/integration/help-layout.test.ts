// Every `--help` laid out at 60 and 120 columns: no line wider than the terminal (except a copyable example command),
// and no ragged wrapping (a line broken although the next word would have fitted on it: a hard line break in the
// source that commander then wrapped again). Runs main.run in-process, as the binary does; one spawn checks COLUMNS.
import { describe, expect, it } from 'vitest';
import { run } from '../../commands/main.js';
import { flowText } from '../../commands/program.js';
import { NOUNS } from '../../commands/registry.js';
import { runCli } from '../support/cli.js';
import { Sink } from '../support/sink.js';

async function help(argv: string[], columns: number): Promise<{ code: number; text: string }> {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await run([...argv, '--help'], { stdout: stdout as never, stderr: stderr as never, stdinIsTTY: false, env: { COLUMNS: String(columns), NO_COLOR: '1' } });
  return { code, text: stdout.text + stderr.text };
}

/** Every help screen: the overview, each noun, and each command. */
async function everyHelpArgv(): Promise<string[][]> {
  const argvs: string[][] = [[]];
  for (const [noun, entry] of Object.entries(NOUNS)) {
    const specs = await entry.load();
    const paths = specs.map((spec) => spec.path.split(' '));
    if (!paths.some((path) => path.length === 1)) argvs.push([noun]);
    argvs.push(...paths);
  }
  return argvs;
}

const leadingSpaces = (line: string) => line.length - line.trimStart().length;

/** Layout problems in one help text laid out for `width` columns. */
export function layoutProblems(text: string, width: number): string[] {
  const problems: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    // Allowed over the width: an example command (copied as one line) and one word too long to break (a path).
    const isExampleCommand = line.startsWith('  $ ');
    const isOneWord = !/\s/.test(line.trim());
    if (line.length > width && !isExampleCommand && !isOneWord) problems.push(`over ${width} columns: "${line}"`);
    const next = lines[i + 1];
    if (!line.trim() || !next?.trim()) return;
    const indent = leadingSpaces(next);
    // The next line continues this one when it starts where this line's text (or its item's description) starts.
    const continues = indent === 0 ? leadingSpaces(line) === 0 && !line.endsWith(':') && !line.startsWith('Usage:') : line[indent - 1] === ' ' && line[indent] !== undefined && line[indent] !== ' ' && leadingSpaces(line) < indent;
    if (!continues) return;
    const firstWord = next.trim().split(/\s+/)[0]!;
    if (line.trimEnd().length + 1 + firstWord.length <= width) problems.push(`ragged: "${line}" could have taken "${firstWord}"`);
  });
  return problems;
}

describe('help layout', () => {
  it.each([60, 120])('every --help fits %i columns and wraps cleanly', async (width) => {
    const argvs = await everyHelpArgv();
    expect(argvs.length).toBeGreaterThan(30);
    const problems: string[] = [];
    for (const argv of argvs) {
      const { code, text } = await help(argv, width);
      expect(code, `iocli ${argv.join(' ')} --help`).toBe(0);
      expect(text).toMatch(/^Usage: iocli/);
      problems.push(...layoutProblems(text, width).map((p) => `iocli ${argv.join(' ')} --help: ${p}`));
    }
    expect(problems).toEqual([]);
  });

  it('the checker itself flags a hard break and an over-wide line', () => {
    expect(layoutProblems('Usage: iocli x\n\nShort line broken\nearly here.', 60)).toEqual(['ragged: "Short line broken" could have taken "early"']);
    expect(layoutProblems(`  --flag  ${'word '.repeat(12)}`, 40)).toEqual([`over 40 columns: "  --flag  ${'word '.repeat(12)}"`]);
    expect(layoutProblems('  --flag  short\n          more words', 40)).toEqual(['ragged: "  --flag  short" could have taken "more"']);
    expect(layoutProblems('  --flag  (default\n          ~/.local/share/a-long-unbreakable-path,', 40)).toEqual([]);
    expect(layoutProblems('  $ iocli a-very-long-example-command --with --many --flags --that --is --fine', 40)).toEqual([]);
  });

  it.each([
    ['one\ntwo', 'one two'],
    ['one  \n  two\nthree', 'one two three'],
    ['para one\n\npara\ntwo', 'para one\n\npara two'],
  ])('flowText(%j)', (input, expected) => {
    expect(flowText(input)).toBe(expected);
  });

  it('the binary lays help out for COLUMNS when not on a terminal', async () => {
    const narrow = await runCli(['rent', '--help'], { env: { COLUMNS: '60' } });
    const wide = await runCli(['rent', '--help'], { env: { COLUMNS: '120' } });
    expect(narrow.code).toBe(0);
    expect(Math.max(...narrow.stdout.split('\n').filter((l) => !l.startsWith('  $ ')).map((l) => l.length))).toBeLessThanOrEqual(60);
    expect(Math.max(...wide.stdout.split('\n').map((l) => l.length))).toBeGreaterThan(80);
  });
});
