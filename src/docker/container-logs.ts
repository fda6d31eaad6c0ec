// A container's logs through `docker logs`: the options checked before they become arguments, and the output streamed
// chunk by chunk (as text, or byte for byte) until it ends or the reader aborts a follow.

import { UserError } from '../errors.js';
import { toExternalError, type DockerCli } from './exec.js';

export interface LogsOptions {
  /** Last N lines only (default: all). */
  tail?: number;
  /** Keep streaming until the container stops or `signal` aborts. */
  follow?: boolean;
  /** RFC 3339 time, Unix seconds, or a relative duration like `10m`. */
  since?: string;
  timestamps?: boolean;
  /** Deliver the output's exact bytes as latin1 text (one character per byte) instead of UTF-8 decoded text. */
  bytes?: boolean;
}

export interface LogChunk {
  stream: 'stdout' | 'stderr';
  /** UTF-8 decoded text, or with `bytes` one character per byte (Buffer.from(text, 'latin1') gives the bytes back). */
  text: string;
}

/** `docker logs` arguments for container `id` (a full id the caller resolved); throws UserError on a bad tail or since. */
function logsArgs(id: string, options: LogsOptions): string[] {
  const args = ['logs'];
  if (options.tail !== undefined) {
    if (!Number.isSafeInteger(options.tail) || options.tail < 0) {
      throw new UserError(`Invalid tail ${JSON.stringify(options.tail)}: must be a whole number ≥ 0.`, { code: 'LOGS_OPTIONS_INVALID' });
    }
    args.push('--tail', String(options.tail));
  }
  if (options.since !== undefined) {
    if (!/^[0-9A-Za-z][0-9A-Za-z:.+-]{0,63}$/.test(options.since)) {
      throw new UserError(`Invalid since ${JSON.stringify(options.since)}: use an RFC 3339 time, Unix seconds or a duration like 10m.`, {
        code: 'LOGS_OPTIONS_INVALID',
      });
    }
    args.push('--since', options.since);
  }
  if (options.timestamps) args.push('--timestamps');
  if (options.follow) args.push('--follow');
  args.push(id);
  return args;
}

/** Streams the logs of container `id` to `onChunk`; resolves when done, or when `signal` aborts a follow. */
export async function streamContainerLogs(
  cli: DockerCli,
  id: string,
  options: LogsOptions,
  onChunk: (chunk: LogChunk) => void,
  signal?: AbortSignal,
): Promise<void> {
  const args = logsArgs(id, options);
  if (signal?.aborted) return;
  const result = await cli.call(args, {
    timeoutMs: options.follow ? 0 : undefined,
    signal,
    ...(options.bytes ? { encoding: 'latin1' as const } : {}),
    onStdout: (text) => onChunk({ stream: 'stdout', text }),
    onStderr: (text) => onChunk({ stream: 'stderr', text }),
  });
  // Aborting a follow is how a reader says it is done.
  if (result.cancelled) return;
  if (result.exitCode !== 0 || result.notInstalled || result.timedOut) throw toExternalError(cli.describe(args), result);
}
