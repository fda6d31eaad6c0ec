// Links to Solana Explorer for a transaction, when the cluster is one Explorer can show.

import { clusterOf } from './connection.js';

/** Explorer URL for a signature, or undefined for localnet and custom clusters Explorer cannot reach. */
export function explorerLink(signature: string, rpcUrl: string): string | undefined {
  const cluster = clusterOf(rpcUrl);
  const base = `https://explorer.solana.com/tx/${encodeURIComponent(signature)}`;
  switch (cluster) {
    case 'mainnet-beta':
      return base;
    case 'devnet':
    case 'testnet':
      return `${base}?cluster=${cluster}`;
    default:
      return undefined;
  }
}
