// The coordinator URLs a client may use, in order, starting from the one that last answered. A URL whose host is a name
// is expanded, once it fails, into one URL per address the name resolves to.
import type { LightResponse } from '../http/light-fetch.js';
import { coordinatorUrls } from './coordinator-urls.js';

export type ResolveHost = (host: string) => Promise<Array<{ address: string; family: number }>>;

export interface ReplicaList {
  /** The first configured URL. */
  first: string;
  /** Try the active URL, then the others; a failure to connect (not an HTTP answer) moves on. */
  send(attempt: (url: string) => Promise<LightResponse>, signal: AbortSignal): Promise<LightResponse>;
}

export function createReplicaList(spec: string, resolveHost?: ResolveHost): ReplicaList {
  const configured = coordinatorUrls(spec);
  const candidates = [...configured];
  const expanded = new Set<string>();
  let active = 0;

  async function expand(url: string): Promise<void> {
    if (expanded.has(url)) return;
    expanded.add(url);
    const parsed = new URL(url);
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    const { isIP } = await import('node:net');
    if (isIP(host)) return;
    const resolve = resolveHost ?? (async (name: string) => (await import('node:dns/promises')).lookup(name, { all: true }));
    const addresses = await resolve(host).catch(() => []);
    const at = candidates.indexOf(url);
    const extra = addresses
      .map((a) => {
        const copy = new URL(url);
        copy.hostname = a.family === 6 ? `[${a.address}]` : a.address;
        return copy.toString().replace(/\/+$/, '');
      })
      .filter((u) => !candidates.includes(u));
    candidates.splice(at + 1, 0, ...extra);
  }

  return {
    first: configured[0]!,
    async send(attempt, signal) {
      let lastError: unknown;
      for (let tried = 0; tried < candidates.length; tried++) {
        const index = (active + tried) % candidates.length;
        const url = candidates[index]!;
        try {
          const response = await attempt(url);
          active = index;
          return response;
        } catch (error) {
          if (signal.aborted) throw error;
          lastError = error;
          await expand(url);
        }
      }
      throw lastError;
    },
  };
}
