// `iocli config set KEY VALUE`: a setting in the config file (profile settings for the active or --profile profile).
import { findSettingKey, type SettingKey } from '../../src/settings/keys.js';
import type { CommandSpec } from '../spec.js';

export const configSet: CommandSpec<{ key: SettingKey; value: string }> = {
  path: 'config set',
  summary: 'Change a setting (profile settings apply to the active or --profile profile)',
  args: ['<key>', '<value>'],
  examples: [
    'iocli config set profile devnet',
    'iocli config set api-url https://coordinator.example.com --profile devnet',
    'iocli config set rpc-url localhost',
    'iocli config set price-per-gpu-hour 2.10',
  ],
  parse({ args: [name, raw] }) {
    const key = findSettingKey(name!);
    return { key, value: key.normalize(raw!) };
  },
  async run({ key, value }, ctx) {
    const { openWritableStore } = await import('../../src/settings/store.js');
    const settings = await ctx.settings();
    const storePath = key.scope === 'profile' ? `profiles.${settings.profile}.${key.property}` : key.property;
    const store = await openWritableStore(settings.configDir);
    store.set(storePath, value);
    return {
      data: { key: key.name, value, profile: key.scope === 'profile' ? settings.profile : undefined, file: store.path },
      human: (r) => r.success(`${key.name} = ${value}${key.scope === 'profile' ? ` (profile ${settings.profile})` : ''}`),
    };
  },
};
