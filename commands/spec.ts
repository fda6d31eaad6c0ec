// The shape of one CLI command, all of it in the verb's own file: the spec (flags, help), parse (argv → typed options,
// the only place a flag's text is read) and run (one call into src/ with those options). Verb files stay light: they
// import types and small pure parsers statically and load the work lazily inside run().
import type { Context } from './context.js';

/** What commander parsed for one invocation, before any of it means anything. */
export interface ParsedArgv {
  /** Positional arguments in order (a variadic one spread out). */
  args: string[];
  /**
   * The verb's own flags (camelCased by commander), completed with any of them given to a parent command: `provide`
   * declares flags its verbs share, and commander hands such a flag to the first command that declares it.
   */
  flags: Record<string, unknown>;
  /** The global flags (--json, --yes, --profile …) as given. */
  globals: Record<string, unknown>;
  env: Record<string, string | undefined>;
}

export interface OptionSpec {
  /** commander flags, e.g. '--gpus <n>' or '-f, --force'. */
  flags: string;
  description: string;
  defaultValue?: string | boolean | string[];
  /** Parse the raw string (throw UsageError on bad input). */
  parse?: (value: string, previous: unknown) => unknown;
  choices?: string[];
  /** Hide from --help (internal/testing flags). */
  hidden?: boolean;
}

export interface CommandSpec<Options = any> {
  /** The path below `iocli`, e.g. 'gpus', 'wallet new', 'lease stop'. */
  path: string;
  summary: string;
  /** Longer help text shown by `iocli <path> --help`. */
  description?: string;
  /** Positional arguments in commander syntax, e.g. ['<id>'] or ['[key]']. */
  args?: string[];
  options?: OptionSpec[];
  /** Shown under "Examples:" in --help. At least one. */
  examples: string[];
  /**
   * argv → the typed options run() takes, in one step. Every bad value is a UsageError (exit 2) here, before anything
   * runs. Pure: no I/O, no prompts (a value missing on purpose stays undefined and run() asks for it on a terminal).
   */
  parse(argv: ParsedArgv): Options;
  /** Do the work. Return data for the renderer (printed as JSON with --json) or undefined if it printed itself. */
  run(options: Options, ctx: Context): Promise<CommandResult | void>;
}

export interface CommandResult {
  /** The result value: printed verbatim as the single JSON document with --json. */
  data: unknown;
  /** Human rendering of the same value (tables, colours); defaults to a key/value listing. */
  human?: (render: import('./output.js').HumanRenderer) => void;
  /**
   * Exit with this code although nothing failed: `rent --follow` and `lease exec` pass on their workload's exit code,
   * like `docker run`. With data undefined nothing is printed.
   */
  exitCode?: number;
}
