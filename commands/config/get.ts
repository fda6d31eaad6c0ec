import type { CommandSpec } from '../spec.js';

export const configGet: CommandSpec = {
  path: 'config get',
  summary: 'Print one effective setting',
  args: ['<key>'],
  examples: ['iocli config get api-url', 'iocli config get rpc-url --profile devnet', 'iocli config get keypair --json'],
  async run([name], _options, ctx) {
    const { findSettingKey } = await import('../../src/settings/keys.js');
    const key = findSettingKey(name!);
    const settings = await ctx.settings();
    const value = key.property === 'keypair' ? await ctx.keypairPath() : settings[key.property as keyof typeof settings];
    const source = settings.sources[key.property as keyof typeof settings.sources] ?? 'default';
    return {
      data: { key: key.name, value: value ?? null, source, profile: settings.profile },
      human: (r) => r.line(value === undefined ? r.colors.dim('(not set)') : String(value)),
    };
  },
};
