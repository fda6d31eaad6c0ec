// A coordinator's non-2xx answer as an iocli error: its status and stable code kept for callers, a hint for people.
import { ExitCode, ExternalError, UserError } from '../errors.js';

/** The error the client throws for a 4xx answer; `status` and the server's `code` are kept for callers. */
export class ApiError extends UserError {
  constructor(
    readonly status: number,
    message: string,
    options: { code: string; hint?: string; details?: Record<string, unknown>; exitCode: (typeof ExitCode)[keyof typeof ExitCode] },
  ) {
    super(message, options);
    this.name = 'ApiError';
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** What an error body may hold: read defensively, any field may be missing from a proxy's or an old server's answer. */
function errorFields(body: unknown): { code?: string; message?: string; hint?: string; details?: Record<string, unknown> } {
  const error = isRecord(body) ? body.error : undefined;
  if (!isRecord(error)) return {};
  return { code: text(error.code), message: text(error.message), hint: text(error.hint), details: isRecord(error.details) ? error.details : undefined };
}

/** 5xx and 429 are the coordinator's trouble (ExternalError); other statuses are ApiErrors with the server's code. */
export function errorFromAnswer(status: number, body: unknown, what: string): Error {
  const error = errorFields(body);
  const message = error.message ?? `The coordinator answered ${status} to ${what}.`;
  const code = error.code ?? `HTTP_${status}`;
  const { details } = error;
  if (status >= 500 || status === 429) {
    return new ExternalError(message, { code, hint: error.hint ?? (status === 429 ? 'Wait a moment and retry.' : 'The coordinator failed; try again later.'), details });
  }
  if (status === 401) {
    return new ApiError(status, message, { code, hint: error.hint ?? (code === 'CLOCK_SKEW' ? 'Sync the system clock (e.g. enable NTP).' : 'Check the keypair in use (--keypair).'), details, exitCode: ExitCode.failure });
  }
  const exitCode = code === 'NO_CAPACITY' || status === 402 ? ExitCode.unavailable : ExitCode.failure;
  return new ApiError(status, message, { code, hint: error.hint, details, exitCode });
}
