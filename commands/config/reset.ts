// `iocli config reset [KEY]`: one setting, or all of them after a confirmation, back to the defaults.
import { findSettingKey, type SettingKey } from '../../src/settings/keys.js';
import type { CommandSpec } from '../spec.js';
import { confirmOrFail } from '../prompts.js';

export const configReset: CommandSpec<{ key?: SettingKey }> = {
  path: 'config reset',
  summary: 'Reset one setting, or all of them, to the defaults',
  args: ['[key]'],
  examples: ['iocli config reset api-url', 'iocli config reset --yes'],
  parse: ({ args: [name] }) => (name === undefined ? {} : { key: findSettingKey(name) }),
  async run({ key }, ctx) {
    const { openWritableStore } = await import('../../src/settings/store.js');
    const settings = await ctx.settings();
    const store = await openWritableStore(settings.configDir);
    if (key) {
      store.delete(key.scope === 'profile' ? `profiles.${settings.profile}.${key.property}` : key.property);
      return { data: { reset: [key.name], profile: settings.profile }, human: (r) => r.success(`${key.name} reset to its default`) };
    }
    await confirmOrFail(ctx, 'Reset all iocli settings (every profile)?', { action: 'Resetting all settings', cancelled: 'Nothing was reset.' });
    store.clear();
    return { data: { reset: 'all' }, human: (r) => r.success('All settings reset to their defaults') };
  },
};
