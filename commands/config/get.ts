// `iocli config get KEY`: one effective setting and where its value comes from.
import { findSettingKey, type SettingKey } from '../../src/settings/keys.js';
import type { CommandSpec } from '../spec.js';

export const configGet: CommandSpec<{ key: SettingKey }> = {
  path: 'config get',
  summary: 'Print one effective setting',
  args: ['<key>'],
  examples: ['iocli config get api-url', 'iocli config get rpc-url --profile devnet', 'iocli config get keypair --json'],
  parse: ({ args: [name] }) => ({ key: findSettingKey(name!) }),
  async run({ key }, ctx) {
    const settings = await ctx.settings();
    const value = key.property === 'keypair' ? await ctx.keypairPath() : settings[key.property as keyof typeof settings];
    const source = settings.sources[key.property as keyof typeof settings.sources] ?? 'default';
    return {
      data: { key: key.name, value: value ?? null, source, profile: settings.profile },
      human: (r) => r.line(value === undefined ? r.colors.dim('(not set)') : String(value)),
    };
  },
};
