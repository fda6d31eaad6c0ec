// Effective settings: defaults < profile defaults < config file < environment < flags, merged by one pure function.
import { UsageError } from '../errors.js';
import { resolveRpcUrl } from '../wallet/connection.js';
import { normalizeHttpUrl, type StoredSettings } from './keys.js';
import { isProfileName, PROFILE_DEFAULTS, PROFILE_NAMES, type ProfileName } from './profiles.js';

export type SettingSource = 'default' | 'profile' | 'config' | 'env' | 'flag';

export interface EffectiveSettings {
  profile: ProfileName;
  apiUrl?: string;
  rpcUrl: string;
  /** Explicitly configured keypair path, if any; see defaultKeypairPath for the fallback. */
  keypair?: string;
  region?: string;
  pricePerGpuHour?: string;
  shareGpus?: string;
  configDir: string;
  /** Where each value came from, for `iocli config list`. */
  sources: Partial<Record<keyof Omit<EffectiveSettings, 'sources' | 'configDir'>, SettingSource>>;
}

export interface SettingFlags {
  profile?: string;
  apiUrl?: string;
  rpcUrl?: string;
  keypair?: string;
}

export interface ResolveInput {
  stored: StoredSettings;
  env: Record<string, string | undefined>;
  flags: SettingFlags;
  configDir: string;
}

export function resolveSettings({ stored, env, flags, configDir }: ResolveInput): EffectiveSettings {
  const sources: EffectiveSettings['sources'] = {};

  const pick = <T>(name: keyof EffectiveSettings['sources'], layers: Array<[SettingSource, T | undefined]>): T | undefined => {
    for (const [source, value] of layers.slice().reverse()) {
      if (value !== undefined && value !== '') {
        sources[name] = source;
        return value;
      }
    }
    return undefined;
  };

  const profileName = pick<string>('profile', [
    ['default', 'local'],
    ['config', stored.profile],
    ['env', env.IOCLI_PROFILE],
    ['flag', flags.profile],
  ])!;
  if (!isProfileName(profileName)) {
    throw new UsageError(`Unknown profile "${profileName}" (from ${sources.profile}).`, { hint: `Choose one of: ${PROFILE_NAMES.join(', ')}.` });
  }
  const defaults = PROFILE_DEFAULTS[profileName];
  const storedProfile = stored.profiles?.[profileName] ?? {};

  const apiUrl = pick<string>('apiUrl', [
    ['profile', defaults.apiUrl],
    ['config', storedProfile.apiUrl],
    ['env', env.IOCLI_API_URL],
    ['flag', flags.apiUrl],
  ]);
  const rpcUrl = pick<string>('rpcUrl', [
    ['profile', defaults.rpcUrl],
    ['config', storedProfile.rpcUrl],
    ['env', env.IOCLI_RPC_URL],
    ['flag', flags.rpcUrl],
  ])!;
  const keypair = pick<string>('keypair', [
    ['config', storedProfile.keypair],
    ['env', env.IOCLI_KEYPAIR],
    ['flag', flags.keypair],
  ]);
  const region = pick<string>('region', [['config', stored.region]]);
  const pricePerGpuHour = pick<string>('pricePerGpuHour', [['config', stored.pricePerGpuHour]]);
  const shareGpus = pick<string>('shareGpus', [['config', stored.shareGpus]]);

  return {
    profile: profileName,
    apiUrl: apiUrl === undefined ? undefined : normalizeHttpUrl(apiUrl, sources.apiUrl === 'flag' ? '--api-url' : 'api-url'),
    rpcUrl: resolveRpcUrl(rpcUrl, sources.rpcUrl === 'flag' ? '--url' : 'rpc-url'),
    keypair,
    region,
    pricePerGpuHour,
    shareGpus,
    configDir,
    sources,
  };
}
