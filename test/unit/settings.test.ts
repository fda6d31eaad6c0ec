import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { findSettingKey } from '../../src/settings/keys.js';
import { resolveRpcUrl } from '../../src/wallet/connection.js';
import { resolveSettings } from '../../src/settings/resolve.js';

const base = { stored: {}, env: {}, flags: {}, configDir: '/cfg' };

describe('resolveSettings', () => {
  it('uses the local profile defaults when nothing is set', () => {
    const settings = resolveSettings(base);
    expect(settings).toMatchObject({ profile: 'local', apiUrl: 'http://127.0.0.1:8787', rpcUrl: 'http://127.0.0.1:8899', keypair: undefined });
    expect(settings.sources).toMatchObject({ profile: 'default', apiUrl: 'profile', rpcUrl: 'profile' });
  });

  it.each([
    ['config file', { stored: { profiles: { local: { apiUrl: 'http://a:1' } } } }, 'http://a:1', 'config'],
    ['env over config', { stored: { profiles: { local: { apiUrl: 'http://a:1' } } }, env: { IOCLI_API_URL: 'http://b:2' } }, 'http://b:2', 'env'],
    ['flag over env', { env: { IOCLI_API_URL: 'http://b:2' }, flags: { apiUrl: 'http://c:3/' } }, 'http://c:3', 'flag'],
  ])('layers api-url: %s', (_name, layer, value, source) => {
    const settings = resolveSettings({ ...base, ...layer });
    expect(settings.apiUrl).toBe(value);
    expect(settings.sources.apiUrl).toBe(source);
  });

  it('reads per-profile values of the selected profile only', () => {
    const stored = { profile: 'devnet', profiles: { local: { rpcUrl: 'http://x:1' }, devnet: { apiUrl: 'https://coord.example' } } };
    const settings = resolveSettings({ ...base, stored });
    expect(settings).toMatchObject({ profile: 'devnet', apiUrl: 'https://coord.example', rpcUrl: 'https://api.devnet.solana.com' });
    expect(resolveSettings({ ...base, stored, env: { IOCLI_PROFILE: 'local' } }).rpcUrl).toBe('http://x:1');
  });

  it('rejects an unknown profile from any layer', () => {
    expect(() => resolveSettings({ ...base, env: { IOCLI_PROFILE: 'testnet' } })).toThrow(UsageError);
  });

  it.each([
    ['localhost', 'http://127.0.0.1:8899'],
    ['l', 'http://127.0.0.1:8899'],
    ['devnet', 'https://api.devnet.solana.com'],
    ['m', 'https://api.mainnet-beta.solana.com'],
    ['https://rpc.example.com/', 'https://rpc.example.com'],
  ])('understands the RPC moniker %s', (input, expected) => {
    expect(resolveRpcUrl(input)).toBe(expected);
  });

  it.each([
    ['region', 'US East'],
    ['region', 'x'],
    ['price-per-gpu-hour', '0'],
    ['price-per-gpu-hour', '1.1234567'],
    ['share-gpus', '0;1'],
    ['profile', 'prod'],
    ['api-url', 'localhost:8787'],
  ])('rejects %s = %j', (name, value) => {
    expect(() => findSettingKey(name).normalize(value)).toThrow(UsageError);
  });
});
