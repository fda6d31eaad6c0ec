// The renter's steps against the coordinator: quote, pay + create (retry-safe), wait until running, follow logs.
// Prompts and rendering stay in commands/; these take an API client and report progress through callbacks.
import type { ApiClient } from '../api/client.js';
import type { Lease, LogsResponse, Quote, QuoteRequest } from '../api/schemas/leases.js';
import { CancelledError, ExternalError, UserError } from '../errors.js';
import { noCapacityError, priceAboveMaxError } from './errors.js';
import { isTerminal, tokens, workloadExitCode } from './format.js';

export type RenterApi = Pick<ApiClient, 'quote' | 'releaseQuote' | 'createLease' | 'lease' | 'leaseLogs' | 'extendLease'>;

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** The idempotency key of the quote step of a rent whose create step uses `key`. */
export function quoteKey(key: string): string {
  return `${key}.quote`;
}

/**
 * Ask for a quote; no capacity and a price above `maxPrice` become exit-4 errors that say what would fit.
 * Keyed like the create step, so a retried rent gets its first quote back (and then its first lease) even though
 * that lease now holds the capacity a fresh quote would look for.
 */
export async function requestQuote(
  api: Pick<RenterApi, 'quote' | 'releaseQuote'>,
  request: QuoteRequest,
  decimals: number,
  { signal, idempotencyKey }: { signal?: AbortSignal; idempotencyKey?: string } = {},
): Promise<Quote> {
  let quote: Quote;
  try {
    quote = await api.quote(request, { signal, ...(idempotencyKey ? { idempotencyKey: quoteKey(idempotencyKey) } : {}) });
  } catch (error) {
    throw noCapacityError(error, decimals) ?? error;
  }
  // The coordinator filters by price already; a multi-node quote averages, so re-check every allocation here.
  if (request.maxPrice !== undefined) {
    const highest = Math.max(quote.pricePerGpuHour, ...quote.placement.map((p) => p.pricePerGpuHour));
    if (highest > request.maxPrice) {
      await releaseQuoteQuietly(api, quote.quoteId);
      throw priceAboveMaxError(highest, request.maxPrice, decimals);
    }
  }
  return quote;
}

/** How long a rent that stops before paying waits for its quote's release: never long, it is only a courtesy. */
export const RELEASE_TIMEOUT_MS = 3_000;

/**
 * Best effort: release a quote that will not be paid for, so its GPUs are free for others now rather than when it
 * lapses (minutes). Never throws and never waits long: the caller is on its way out with an error of its own. A quote
 * already paid for or leased is refused by the coordinator, which is what we want. Returns whether it was released.
 */
export async function releaseQuoteQuietly(api: Pick<RenterApi, 'releaseQuote'>, quoteId: string, timeoutMs = RELEASE_TIMEOUT_MS): Promise<boolean> {
  try {
    // Its own signal: the command's own may be aborted already (Ctrl-C is why we are here).
    await api.releaseQuote(quoteId, { signal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch {
    return false;
  }
}

export interface RetryOptions {
  /** Attempts in all, for failures that leave the outcome unknown (timeouts, 5xx, connection drops). */
  attempts?: number;
  delayMs?: number;
  signal?: AbortSignal;
  onRetry?: (attempt: number, error: Error) => void;
}

/**
 * Run a paying request, retrying only where the outcome is unknown. Every attempt carries the same idempotency key
 * (and the same signed payment), so the coordinator answers a repeat with the first result instead of charging again.
 */
export async function withRetries<T>(call: () => Promise<T>, { attempts = 3, delayMs = 1000, signal, onRetry }: RetryOptions = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const retryable = error instanceof ExternalError && !signal?.aborted;
      if (!retryable || attempt >= attempts) throw error;
      onRetry?.(attempt, error);
      await sleep(delayMs * attempt, signal);
    }
  }
}

/** Add the idempotency key to an error whose outcome is unknown, so the user can retry without paying twice. */
export function withRetryHint(error: unknown, retryCommand: string, idempotencyKey: string): unknown {
  if (!(error instanceof ExternalError)) return error;
  return new ExternalError(error.message, {
    code: error.code,
    hint: `It may or may not have gone through. Retry safely with: ${retryCommand} --idempotency-key ${idempotencyKey}`,
    details: { ...error.details, idempotencyKey },
    cause: error,
  });
}

export interface WaitResult {
  lease: Lease;
  /** The lease neither ran nor ended before the deadline. */
  timedOut: boolean;
}

/** Poll the lease until it runs or ends (or the deadline/abort), reporting each state seen. */
export async function waitForLease(
  api: Pick<RenterApi, 'lease'>,
  initial: Lease,
  { timeoutMs, intervalMs = 500, signal, onUpdate, now = Date.now }: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal; onUpdate?: (lease: Lease) => void; now?: () => number },
): Promise<WaitResult> {
  const deadline = now() + timeoutMs;
  let lease = initial;
  while (lease.state !== 'running' && !isTerminal(lease.state)) {
    if (now() >= deadline || signal?.aborted) return { lease, timedOut: true };
    await sleep(Math.min(intervalMs, Math.max(0, deadline - now())), signal);
    if (signal?.aborted) return { lease, timedOut: true };
    try {
      lease = await api.lease(lease.id, { signal });
    } catch (error) {
      // A blip while waiting is not a failed lease: keep polling until the deadline.
      if (!(error instanceof ExternalError)) throw error;
    }
    onUpdate?.(lease);
  }
  return { lease, timedOut: false };
}

/** A lease that ended instead of running, told with its reason and refund. */
export function leaseEndedError(lease: Lease, decimals: number, formatTokens: (n: number, d: number) => string): UserError {
  const refund = lease.refund > 0 ? ` ${formatTokens(lease.refund, decimals)} tokens were refunded.` : '';
  return new UserError(`Lease ${lease.id} ${lease.state}${lease.failureReason ? `: ${lease.failureReason}` : ''}.${refund}`, {
    code: 'LEASE_FAILED',
    hint: `See \`iocli lease logs ${lease.id}\` for the container output, and \`iocli lease show ${lease.id}\` for details.`,
    details: { leaseId: lease.id, state: lease.state, refund: lease.refund },
  });
}

export interface FollowOptions {
  tail?: number;
  follow: boolean;
  intervalMs?: number;
  signal?: AbortSignal;
  /** base64: entries carry the exact bytes (for --raw); utf8 (default): text. */
  encoding?: 'utf8' | 'base64';
  /** Each entry as it arrives. */
  onEntry: (entry: LogsResponse['entries'][number]) => void;
}

/**
 * Print what is there (optionally only the tail), then with `follow` poll with the cursor until the lease ends
 * (one last fetch catches lines written just before the end) or the signal aborts. Returns the final cursor, and the
 * ended lease when it ended.
 */
export async function followLogs(
  api: Pick<RenterApi, 'leaseLogs' | 'lease'>,
  leaseId: string,
  options: FollowOptions,
): Promise<{ cursor: number; entries: number; ended: boolean; lease?: Lease }> {
  const { follow, intervalMs = 1000, signal, onEntry } = options;
  let count = 0;
  const emit = (response: LogsResponse) => {
    for (const entry of response.entries) onEntry(entry);
    count += response.entries.length;
    return response.cursor;
  };
  const encoding = options.encoding === 'base64' ? { encoding: 'base64' as const } : {};
  let cursor = emit(await api.leaseLogs(leaseId, { ...(options.tail !== undefined ? { tail: options.tail } : {}), ...encoding }, { signal }));
  if (!follow) return { cursor, entries: count, ended: false };
  for (;;) {
    await sleep(intervalMs, signal);
    if (signal?.aborted) return { cursor, entries: count, ended: false };
    let lease: Lease;
    try {
      const response = await api.leaseLogs(leaseId, { since: cursor, ...encoding }, { signal });
      cursor = emit(response);
      lease = await api.lease(leaseId, { signal });
    } catch (error) {
      if (signal?.aborted) return { cursor, entries: count, ended: false };
      if (error instanceof ExternalError) continue;
      throw error;
    }
    if (isTerminal(lease.state)) {
      cursor = emit(await api.leaseLogs(leaseId, { since: cursor, ...encoding }, { signal }));
      return { cursor, entries: count, ended: true, lease };
    }
  }
}


/**
 * `rent --follow`: the container's output as it comes (through `onEntry`) until the lease ends, then the workload's
 * exit code. A lease that ended without its workload exiting (stopped, expired, a node fault) is an error; an aborted
 * signal stops following and leaves the lease running.
 */
export async function followToTheEnd(
  api: Pick<RenterApi, 'leaseLogs' | 'lease'>,
  created: Lease,
  { decimals, intervalMs, signal, onEntry }: { decimals: number; intervalMs: number; signal?: AbortSignal; onEntry: FollowOptions['onEntry'] },
): Promise<{ lease: Lease; exitCode: number }> {
  const followed = await followLogs(api, created.id, { follow: true, intervalMs, signal, onEntry });
  if (!followed.ended || !followed.lease) {
    throw new CancelledError(`Stopped following; lease ${created.id} keeps running until ${created.endsAt}. Follow it again with \`iocli lease logs ${created.id} --follow\`.`);
  }
  const lease = followed.lease;
  const exitCode = workloadExitCode(lease);
  if (exitCode === null) throw leaseEndedError(lease, decimals, tokens);
  return { lease, exitCode };
}
