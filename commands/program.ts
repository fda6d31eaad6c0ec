// commander setup: global flags, help texts, and one subcommand per spec in the registry.
import { createRequire } from 'node:module';
import type * as CommanderTypes from 'commander';
import type { CommandSpec, ParsedArgv } from './spec.js';
import { NOUNS } from './registry.js';

// commander is CommonJS: required rather than imported, which skips ESM's scan of its sources for named exports and
// saves every command a few milliseconds of start-up.
const { Command, Help, Option } = createRequire(import.meta.url)('commander') as typeof CommanderTypes;
type Command = CommanderTypes.Command;

export const EXIT_CODES: Array<[code: string, meaning: string]> = [
  ['0', 'success'],
  ['1', 'failure (invalid input file, not found, rejected)'],
  ['2', 'usage error (unknown command or flag, invalid value, missing flag when not interactive)'],
  ['3', 'an external system failed or is unreachable (Docker, nvidia-smi, coordinator, Solana RPC)'],
  ['4', 'unavailable (not enough capacity, price above --max-price, insufficient balance)'],
  ['70', 'internal error (a bug: please report it)'],
  ['130', 'cancelled'],
];

const OVERVIEW_EXAMPLES: Array<[command: string, what: string]> = [
  ['$ iocli demo', 'run the whole provide → rent → earn loop locally'],
  ['$ iocli gpus', "show this machine's GPUs"],
  ['$ iocli offers --gpus 8 --model H100', ''],
  ['$ iocli rent --gpus 8 --hours 2 --image my/image:tag --yes', ''],
];

/** Help is laid out for this many columns when neither the terminal nor COLUMNS says. */
export const DEFAULT_HELP_WIDTH = 80;
// With fewer columns than this left for a description commander stops wrapping it. Its default, 40, left `lease --help`
// (40-column command terms) unwrapped below 84 columns; 15 still wraps at 60.
const MIN_WIDTH_TO_WRAP = 15;

/**
 * Descriptions are written as flowing text: a single line break in the source is a space, so commander wraps them to the
 * terminal instead of breaking early where the source happened to (ragged lines). A blank line still starts a paragraph.
 */
export function flowText(text: string): string {
  return text
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.trim().replace(/\s*\n\s*/g, ' '))
    .join('\n\n');
}

/**
 * A titled two-column list (like commander's Options) wrapped to `width`, descriptions aligned and indented. A term
 * without a description stands alone and does not widen the first column.
 */
export function formatHelpList(title: string, items: Array<[term: string, description: string]>, width: number): string {
  const help = new Help();
  help.helpWidth = width;
  help.minWidthToWrap = MIN_WIDTH_TO_WRAP;
  const termWidth = Math.max(0, ...items.filter(([, description]) => description).map(([term]) => term.length));
  return [title, ...items.map(([term, description]) => help.formatItem(term, termWidth, description, help))].join('\n');
}

/** Called with the spec commander matched and what it parsed (the caller adds the environment and calls spec.parse). */
export type Invoke = (spec: CommandSpec, argv: Omit<ParsedArgv, 'env'>) => Promise<void>;

export interface ProgramIO {
  writeOut(text: string): void;
  writeErr(text: string): void;
  /** Columns to lay help out in; default DEFAULT_HELP_WIDTH. */
  helpWidth?: number;
}

/** The noun (first word) an argv invokes, skipping global options and their values. */
export function invokedNoun(argv: string[]): string | undefined {
  const takesValue = new Set(['--profile', '--api-url', '-k', '--keypair', '-u', '--url']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (takesValue.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg === 'help' ? argv[i + 1] : arg;
  }
  return undefined;
}

export async function loadNoun(argv: string[]): Promise<{ noun?: string; specs: CommandSpec[] }> {
  const noun = invokedNoun(argv);
  const entry = noun === undefined ? undefined : NOUNS[noun];
  return entry ? { noun, specs: await entry.load() } : { specs: [] };
}

export function buildProgram(version: string, invoke: Invoke, io: ProgramIO, loaded: { noun?: string; specs: CommandSpec[] }): Command {
  const helpWidth = io.helpWidth ?? DEFAULT_HELP_WIDTH;
  const program = new Command('iocli')
    // Set before any subcommand is added: commander copies these settings to subcommands when they are created.
    .exitOverride()
    .configureOutput({ writeOut: io.writeOut, writeErr: io.writeErr, outputError: () => {}, getOutHelpWidth: () => helpWidth, getErrHelpWidth: () => helpWidth })
    .configureHelp({ minWidthToWrap: MIN_WIDTH_TO_WRAP })
    .description('Provide, rent and settle GPU compute on a decentralized GPU cloud (Solana).')
    .version(version, '-V, --version', 'print the version')
    .option('--json', 'print the result as one JSON document on stdout')
    .option('-y, --yes', 'assume yes for confirmations; never prompt')
    .option('-q, --quiet', 'print only the result (no progress)')
    .option('--profile <name>', 'network profile: local, devnet, mainnet-beta (env IOCLI_PROFILE)')
    .option('--api-url <url>', 'coordinator API URL (env IOCLI_API_URL)')
    .option('-k, --keypair <path>', 'wallet keypair file (env IOCLI_KEYPAIR)')
    .option('-u, --url <url-or-moniker>', 'Solana RPC URL or localhost|devnet|mainnet-beta (env IOCLI_RPC_URL)')
    .option('--no-color', 'disable colours (also NO_COLOR or when not a TTY)')
    .showSuggestionAfterError(true)
    .addHelpText('after', `\n${formatHelpList('Examples:', OVERVIEW_EXAMPLES, helpWidth)}\n\n${formatHelpList('Exit codes:', EXIT_CODES, helpWidth)}`);

  for (const [noun, entry] of Object.entries(NOUNS)) {
    if (noun === loaded.noun) registerSpecs(program, loaded.specs, invoke);
    else program.command(noun).summary(entry.summary).description(entry.summary).allowUnknownOption().helpOption(false);
  }
  return program;
}

function registerSpecs(program: Command, specs: CommandSpec[], invoke: Invoke): void {
  const byPath = new Map<string, Command>();
  const ordered = [...specs].sort((a, b) => a.path.split(' ').length - b.path.split(' ').length);
  for (const spec of ordered) {
    const words = spec.path.split(' ');
    const parentPath = words.slice(0, -1).join(' ');
    let parent = parentPath ? byPath.get(parentPath) : program;
    if (!parent) {
      // A group with no action of its own: print its help and exit 2 when the verb is missing.
      const group = program.command(words[0]!).description(NOUNS[words[0]!]?.summary ?? '');
      group.action(() => group.help({ error: true }));
      byPath.set(parentPath, group);
      parent = group;
    }
    const command = parent.command(words.at(-1)!);
    byPath.set(spec.path, command);
    command.description(flowText(spec.description ?? spec.summary)).summary(spec.summary);
    for (const arg of spec.args ?? []) command.argument(arg);
    for (const optionSpec of spec.options ?? []) {
      const option = new Option(optionSpec.flags, optionSpec.description);
      if (optionSpec.defaultValue !== undefined) option.default(optionSpec.defaultValue);
      if (optionSpec.parse) option.argParser(optionSpec.parse as (value: string, previous: unknown) => unknown);
      if (optionSpec.choices) option.choices(optionSpec.choices);
      if (optionSpec.hidden) option.hideHelp();
      command.addOption(option);
    }
    command.addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  $ ${e}`).join('\n')}\n`);
    command.action(async (...received: unknown[]) => {
      const cmd = received.at(-1) as Command;
      const args = (received.slice(0, -2) as Array<string | string[] | undefined>).flatMap((a) => (a === undefined ? [] : a));
      await invoke(spec, { args: args as string[], flags: ownFlagsWithParents(cmd), globals: program.opts() });
    });
  }
}

/**
 * The command's own flags, where one given on the command line was taken by a parent that declares the same flag
 * (`iocli provide status --data-dir X`: commander hands --data-dir to `provide`), taken back from that parent.
 */
function ownFlagsWithParents(cmd: Command): Record<string, unknown> {
  const flags: Record<string, unknown> = { ...cmd.opts() };
  for (const option of cmd.options) {
    const key = option.attributeName();
    if (cmd.getOptionValueSource(key) === 'cli') continue;
    for (let parent = cmd.parent; parent; parent = parent.parent) {
      if (parent.options.some((o) => o.attributeName() === key) && parent.getOptionValueSource(key) === 'cli') {
        flags[key] = parent.getOptionValue(key);
        break;
      }
    }
  }
  return flags;
}
