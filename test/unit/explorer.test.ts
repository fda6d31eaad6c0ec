// RPC monikers, cluster detection and Explorer links.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { clusterOf, resolveRpcUrl, wsEndpointOf } from '../../src/wallet/connection.js';
import { explorerLink } from '../../src/wallet/explorer.js';

describe('resolveRpcUrl', () => {
  it.each([
    ['localhost', 'http://127.0.0.1:8899'],
    ['l', 'http://127.0.0.1:8899'],
    ['devnet', 'https://api.devnet.solana.com'],
    ['d', 'https://api.devnet.solana.com'],
    ['testnet', 'https://api.testnet.solana.com'],
    ['t', 'https://api.testnet.solana.com'],
    ['mainnet-beta', 'https://api.mainnet-beta.solana.com'],
    ['m', 'https://api.mainnet-beta.solana.com'],
    ['https://rpc.example.com/key', 'https://rpc.example.com/key'],
    [' http://127.0.0.1:9000 ', 'http://127.0.0.1:9000'],
  ])('%s → %s', (input, url) => {
    expect(resolveRpcUrl(input)).toBe(url);
  });

  it.each(['mainnet', 'ftp://example.com', 'not a url', ''])('rejects %j with a hint', (input) => {
    const error = (() => {
      try {
        resolveRpcUrl(input);
      } catch (e) {
        return e;
      }
    })() as UsageError;
    expect(error).toBeInstanceOf(UsageError);
    expect(error.code).toBe('RPC_URL_INVALID');
    expect(error.hint).toMatch(/devnet/);
  });
});

describe('clusterOf and wsEndpointOf', () => {
  it.each([
    ['http://127.0.0.1:8899', 'localnet'],
    ['http://localhost:8899', 'localnet'],
    ['https://api.devnet.solana.com', 'devnet'],
    ['https://api.testnet.solana.com', 'testnet'],
    ['https://api.mainnet-beta.solana.com', 'mainnet-beta'],
    ['https://rpc.example.com', 'custom'],
  ])('%s is %s', (url, cluster) => {
    expect(clusterOf(url)).toBe(cluster);
  });

  it('derives the WebSocket endpoint like web3.js', () => {
    expect(wsEndpointOf('http://127.0.0.1:8899')).toBe('ws://127.0.0.1:8900');
    expect(wsEndpointOf('https://api.devnet.solana.com')).toBe('wss://api.devnet.solana.com');
  });
});

describe('explorerLink', () => {
  const sig = '5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW';
  it.each([
    ['https://api.mainnet-beta.solana.com', `https://explorer.solana.com/tx/${sig}`],
    ['https://api.devnet.solana.com', `https://explorer.solana.com/tx/${sig}?cluster=devnet`],
    ['https://api.testnet.solana.com', `https://explorer.solana.com/tx/${sig}?cluster=testnet`],
    ['http://127.0.0.1:8899', undefined],
    ['https://rpc.example.com', undefined],
  ])('%s', (rpcUrl, link) => {
    expect(explorerLink(sig, rpcUrl)).toBe(link);
  });
});
