// The settable keys of `iocli config`, each with its validation. Pure.
import { UsageError } from '../errors.js';
import { resolveRpcUrl } from '../wallet/connection.js';
import { isProfileName, PROFILE_NAMES } from './profiles.js';

export type SettingScope = 'global' | 'profile';

export interface SettingKey {
  /** The name users type: `iocli config set api-url …`. */
  name: string;
  /** The property in the stored file and in EffectiveSettings. */
  property: keyof StoredProfileSettings | keyof StoredGlobalSettings;
  scope: SettingScope;
  description: string;
  /** Returns the normalised value or throws UsageError explaining what is accepted. */
  normalize(raw: string): string;
}

export interface StoredProfileSettings {
  apiUrl?: string;
  rpcUrl?: string;
  keypair?: string;
}

export interface StoredGlobalSettings {
  profile?: string;
  region?: string;
  pricePerGpuHour?: string;
  shareGpus?: string;
}

export interface StoredSettings extends StoredGlobalSettings {
  profiles?: Record<string, StoredProfileSettings>;
}

/** Accept an http(s) URL; `what` names the setting or flag in the error. */
export function normalizeHttpUrl(raw: string, what: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`Invalid ${what}: "${raw}" is not a URL.`, { hint: `Use an http(s) URL such as http://127.0.0.1:8787.` });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`Invalid ${what}: "${raw}" must use http or https.`, { hint: 'Example: https://coordinator.example.com' });
  }
  return raw.replace(/\/+$/, '');
}

export const SETTING_KEYS: readonly SettingKey[] = [
  {
    name: 'profile',
    property: 'profile',
    scope: 'global',
    description: `Active network profile (${PROFILE_NAMES.join(', ')})`,
    normalize(raw) {
      if (!isProfileName(raw)) throw new UsageError(`Invalid profile "${raw}".`, { hint: `Choose one of: ${PROFILE_NAMES.join(', ')}.` });
      return raw;
    },
  },
  {
    name: 'api-url',
    property: 'apiUrl',
    scope: 'profile',
    description: 'Coordinator API base URL; several, comma-separated, for failover between replicas',
    normalize: (raw) =>
      raw
        .split(',')
        .map((part) => normalizeHttpUrl(part.trim(), 'api-url'))
        .join(','),
  },
  {
    name: 'rpc-url',
    property: 'rpcUrl',
    scope: 'profile',
    description: 'Solana JSON-RPC URL or moniker (localhost, devnet, mainnet-beta)',
    normalize: (raw) => resolveRpcUrl(raw, 'rpc-url'),
  },
  {
    name: 'keypair',
    property: 'keypair',
    scope: 'profile',
    description: 'Path to the wallet keypair file (Solana CLI JSON format)',
    normalize(raw) {
      if (raw.trim() === '' || raw.includes('\0')) throw new UsageError('Invalid keypair path.', { hint: 'Give a file path, e.g. ~/.config/solana/id.json' });
      return raw;
    },
  },
  {
    name: 'region',
    property: 'region',
    scope: 'global',
    description: 'Provider region label, e.g. us-east, eu-west',
    normalize(raw) {
      if (!/^[a-z][a-z0-9-]{1,31}$/.test(raw)) {
        throw new UsageError(`Invalid region "${raw}".`, { hint: 'Use lowercase letters, digits and dashes, e.g. us-east or eu-west-1.' });
      }
      return raw;
    },
  },
  {
    name: 'price-per-gpu-hour',
    property: 'pricePerGpuHour',
    scope: 'global',
    description: 'Provider asking price per GPU-hour, in tokens (e.g. 1.25)',
    normalize(raw) {
      if (!/^\d{1,6}(\.\d{1,6})?$/.test(raw) || Number(raw) <= 0) {
        throw new UsageError(`Invalid price-per-gpu-hour "${raw}".`, { hint: 'Use a positive amount in tokens with at most 6 decimals, e.g. 1.25.' });
      }
      return raw;
    },
  },
  {
    name: 'share-gpus',
    property: 'shareGpus',
    scope: 'global',
    description: 'GPUs a provider shares: "all" or indices like 0,1,2',
    normalize(raw) {
      if (raw !== 'all' && !/^\d{1,2}(,\d{1,2})*$/.test(raw)) {
        throw new UsageError(`Invalid share-gpus "${raw}".`, { hint: 'Use "all" or a comma-separated list of GPU indices, e.g. 0,1,3.' });
      }
      return raw;
    },
  },
];

export function findSettingKey(name: string): SettingKey {
  const key = SETTING_KEYS.find((k) => k.name === name || k.property === name);
  if (!key) {
    throw new UsageError(`Unknown setting "${name}".`, { hint: `Known settings: ${SETTING_KEYS.map((k) => k.name).join(', ')}.` });
  }
  return key;
}
