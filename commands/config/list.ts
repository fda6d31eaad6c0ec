// `iocli config list`: every setting, its value and its source.
import type { CommandSpec } from '../spec.js';

export const configList: CommandSpec<Record<string, never>> = {
  path: 'config list',
  summary: 'List all settings with where each value comes from',
  description: 'Settings resolve as: built-in defaults < profile defaults < config file < IOCLI_* environment < flags.',
  examples: ['iocli config list', 'iocli config list --profile devnet --json'],
  parse: () => ({}),
  async run(_options, ctx) {
    const { SETTING_KEYS } = await import('../../src/settings/keys.js');
    const settings = await ctx.settings();
    const keypairPath = await ctx.keypairPath();
    const rows = SETTING_KEYS.map((key) => {
      const property = key.property as keyof typeof settings.sources;
      const value = key.property === 'keypair' ? keypairPath : (settings[property] as string | undefined);
      return { key: key.name, value: value ?? null, source: settings.sources[property] ?? (value ? 'default' : 'unset'), scope: key.scope };
    });
    return {
      data: { profile: settings.profile, configDir: settings.configDir, settings: rows },
      human: (r) => {
        r.table(['Key', 'Value', 'Source'], rows.map((row) => [row.key, row.value ?? r.colors.dim('(not set)'), row.source]));
        r.line(r.colors.dim(`Profile: ${settings.profile} · config folder: ${settings.configDir}`));
      },
    };
  },
};
