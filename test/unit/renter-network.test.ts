// The one place the CLI decides which chain it talks to, as a table.
import { describe, expect, it } from 'vitest';
import type { NetworkInfo } from '../../src/api/schemas/network.js';
import { resolveRenterNetwork, websocketUrlFor } from '../../src/renter/network.js';

const info: NetworkInfo = { cluster: 'localnet', rpcUrl: 'http://127.0.0.1:9000', mint: 'Mint111', decimals: 9, treasury: 'T', feeBps: 500, dev: true, symbol: 'tIOC' };
const profile = { rpcUrl: 'http://127.0.0.1:8899', sources: { rpcUrl: 'profile' } };

describe('resolveRenterNetwork', () => {
  it.each([
    ['the coordinator announces the chain', profile, { info }, 'http://127.0.0.1:9000', 'coordinator'],
    ['the config file does not override it', { ...profile, sources: { rpcUrl: 'config' } }, { info }, 'http://127.0.0.1:9000', 'coordinator'],
    ['--url overrides it', { rpcUrl: 'http://127.0.0.1:7000', sources: { rpcUrl: 'flag' } }, { info }, 'http://127.0.0.1:7000', 'override'],
    ['IOCLI_RPC_URL overrides it', { rpcUrl: 'http://127.0.0.1:7000', sources: { rpcUrl: 'env' } }, { info }, 'http://127.0.0.1:7000', 'override'],
    ['an unreachable coordinator leaves the profile', profile, { error: new Error('down') }, 'http://127.0.0.1:8899', 'profile'],
  ] as const)('%s', (_what, settings, answer, rpcUrl, source) => {
    const network = resolveRenterNetwork(settings, answer);
    expect([network.rpcUrl, network.rpcSource]).toEqual([rpcUrl, source]);
  });

  it('takes mint, decimals and payment from the coordinator, with the token defaults otherwise', () => {
    expect(resolveRenterNetwork(profile, { info })).toMatchObject({ mint: 'Mint111', decimals: 9, symbol: 'tIOC', paymentRequired: true, wsUrl: 'ws://127.0.0.1:9001' });
    expect(resolveRenterNetwork(profile, { info: { ...info, mint: null } })).toMatchObject({ paymentRequired: false });
    const down = resolveRenterNetwork(profile, { error: new Error('down') });
    expect(down).toMatchObject({ mint: null, decimals: 6, paymentRequired: false });
    expect(down.coordinator).toBeUndefined();
    expect(down.unreachable).toBeInstanceOf(Error);
  });

  it.each([
    ['http://127.0.0.1:8899', 'ws://127.0.0.1:8900'],
    ['https://api.devnet.solana.com', 'wss://api.devnet.solana.com'],
    ['https://rpc.example.com:8443/path?key=1', 'wss://rpc.example.com:8444/path?key=1'],
  ])('WebSocket for %s is %s', (rpc, ws) => {
    expect(websocketUrlFor(rpc)).toBe(ws);
  });
});
