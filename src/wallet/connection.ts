// Which Solana RPC to talk to: monikers like the Solana CLI's `-u`, cluster detection, and a lazily loaded web3.js Connection.

import type { Connection } from '@solana/web3.js';
import { UsageError } from '../errors.js';

export type Cluster = 'mainnet-beta' | 'devnet' | 'testnet' | 'localnet' | 'custom';

const MONIKERS: Record<string, string> = {
  localhost: 'http://127.0.0.1:8899',
  l: 'http://127.0.0.1:8899',
  devnet: 'https://api.devnet.solana.com',
  d: 'https://api.devnet.solana.com',
  testnet: 'https://api.testnet.solana.com',
  t: 'https://api.testnet.solana.com',
  'mainnet-beta': 'https://api.mainnet-beta.solana.com',
  m: 'https://api.mainnet-beta.solana.com',
};

/** Accepts a moniker (localhost, devnet, testnet, mainnet-beta, or l/d/t/m) or an http(s) URL. */
export function resolveRpcUrl(urlOrMoniker: string, what = 'RPC URL'): string {
  const input = urlOrMoniker.trim();
  const known = MONIKERS[input];
  if (known) return known;
  let url: URL | undefined;
  try {
    url = new URL(input);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
    throw new UsageError(`Invalid ${what} "${urlOrMoniker}".`, {
      code: 'RPC_URL_INVALID',
      hint: 'Pass an http(s) URL such as https://api.devnet.solana.com, or one of: localhost, devnet, testnet, mainnet-beta (short: l, d, t, m).',
    });
  }
  return input.replace(/\/+$/, '');
}

export function clusterOf(rpcUrl: string): Cluster {
  let host: string;
  try {
    host = new URL(rpcUrl).hostname.toLowerCase();
  } catch {
    return 'custom';
  }
  if (host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)) return 'localnet';
  if (host.includes('devnet')) return 'devnet';
  if (host.includes('testnet')) return 'testnet';
  if (host.includes('mainnet')) return 'mainnet-beta';
  return 'custom';
}

/** ws(s):// on the same host; for an explicit port, port + 1 (the validator's default, and web3.js's assumption). */
export function wsEndpointOf(rpcUrl: string): string {
  const url = new URL(rpcUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  if (url.port) url.port = String(Number(url.port) + 1);
  return url.toString().replace(/\/$/, '');
}

/** A web3.js Connection; web3.js (~190 ms to import) is loaded only here. */
export async function createConnection(rpcUrl: string, { wsEndpoint, commitment = 'confirmed' }: { wsEndpoint?: string; commitment?: 'processed' | 'confirmed' | 'finalized' } = {}): Promise<Connection> {
  const { Connection } = await import('@solana/web3.js');
  return new Connection(rpcUrl, { commitment, wsEndpoint: wsEndpoint ?? wsEndpointOf(rpcUrl) });
}
