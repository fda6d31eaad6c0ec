// The slice of fetch() that the coordinator client and the Solana RPC reads use, over node:http(s).
// Why: Node's global fetch boots undici on its first call, ~170 ms on this kind of machine, which alone took
// `iocli offers`, `leases` and `wallet balance` past twice the cost of a bare `node -e 0`. node:http is already loaded.
import { request as httpRequest, type IncomingMessage } from 'node:http';

export interface LightRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface LightResponse {
  readonly ok: boolean;
  readonly status: number;
  text(): Promise<string>;
}

/** What callers accept: the global fetch fits, and so does lightFetch. */
export type FetchLike = (url: string, init: LightRequestInit) => Promise<LightResponse>;

/**
 * A fetch-alike for JSON APIs: the body is read whole as UTF-8. It fails like fetch does, so callers need not know
 * which one they got: a network failure rejects with TypeError('fetch failed') whose `cause` is the socket error,
 * an abort rejects with the signal's reason (a TimeoutError for AbortSignal.timeout).
 */
export const lightFetch: FetchLike = async (url, init) => {
  const target = new URL(url);
  const request =
    target.protocol === 'https:' ? (await import('node:https')).request : target.protocol === 'http:' ? httpRequest : undefined;
  if (!request) throw new TypeError(`fetch failed: unsupported protocol ${target.protocol}`);
  const signal = init.signal;
  if (signal?.aborted) throw signal.reason;
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));

  return new Promise<LightResponse>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }));
    };
    const req = request(target, { method: init.method ?? 'GET', headers });
    const onAbort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', fail);
    req.on('response', (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.on('aborted', () => fail(new Error('the response was cut short')));
      response.on('end', () => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        const status = response.statusCode ?? 0;
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ ok: status >= 200 && status < 300, status, text: async () => body });
      });
    });
    req.end(init.body);
  });
};
