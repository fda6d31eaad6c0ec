// The few error types iocli raises. src/ throws these; commands/main.ts maps them to exit codes.

/** Exit codes, documented in the README. Stable: scripts depend on them. */
export const ExitCode = {
  ok: 0,
  /** A user-facing failure: bad input file, not found, rejected by the network. */
  failure: 1,
  /** Command-line usage: unknown command or flag, invalid flag value. */
  usage: 2,
  /** An external system failed or could not be reached: Docker, nvidia-smi, the coordinator, the RPC. */
  external: 3,
  /** The request is valid but cannot be served now: not enough capacity, price above --max-price, insufficient balance. */
  unavailable: 4,
  /** A bug in iocli (unexpected exception). */
  bug: 70,
  /** The user cancelled (Ctrl-C or declined a confirmation). */
  cancelled: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface UserErrorOptions {
  /** What to do next, shown under the message. */
  hint?: string;
  exitCode?: ExitCodeValue;
  /** A stable machine-readable code for --json output, e.g. "KEYPAIR_INVALID". */
  code?: string;
  /** Extra structured facts for --json output (never secrets). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** Something the user can fix. Printed as one line plus hint, never with a stack trace. */
export class UserError extends Error {
  readonly hint?: string;
  readonly exitCode: ExitCodeValue;
  readonly code: string;
  readonly details?: Record<string, unknown>;

  constructor(message: string, options: UserErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'UserError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.failure;
    this.code = options.code ?? 'FAILED';
    this.details = options.details;
  }
}

/** A usage mistake on the command line (bad flag value, missing required flag when not interactive). */
export class UsageError extends UserError {
  constructor(message: string, options: Omit<UserErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: ExitCode.usage, code: options.code ?? 'USAGE' });
    this.name = 'UsageError';
  }
}

/** The user declined or interrupted. */
export class CancelledError extends Error {
  readonly exitCode = ExitCode.cancelled;
  constructor(message = 'Cancelled.') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** An external program or service failed (docker, nvidia-smi, an HTTP API, an RPC node). */
export class ExternalError extends UserError {
  readonly command?: string;
  readonly stderr?: string;
  constructor(message: string, options: Omit<UserErrorOptions, 'exitCode'> & { command?: string; stderr?: string } = {}) {
    super(message, { ...options, exitCode: ExitCode.external, code: options.code ?? 'EXTERNAL' });
    this.name = 'ExternalError';
    this.command = options.command;
    this.stderr = options.stderr;
  }
}
