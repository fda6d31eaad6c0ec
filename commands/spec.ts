// The shape of one CLI command. Spec files are light: they import only types from src/ and load the work lazily in run().
import type { Context } from './context.js';

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
   * Do the work. Return data for the renderer (printed as JSON with --json) or undefined if it printed itself.
   * `args` are the positional arguments in order; `options` the parsed flags (camelCased by commander).
   */
  run(args: string[], options: Options, ctx: Context): Promise<CommandResult | void>;
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
