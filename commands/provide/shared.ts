// Helpers the `provide` verbs share: flags that commander may hand to the parent `provide`, and the data directory.
import type { Context } from '../context.js';

export async function dataDirFrom(flag: string | undefined, ctx: Context): Promise<string> {
  const [{ defaultDataDir }, { expandHome }, { resolve }] = await Promise.all([
    import('../../src/provider/data-dir.js'),
    import('../../src/wallet/keypair.js'),
    import('node:path'),
  ]);
  return resolve(flag ? expandHome(flag) : defaultDataDir(ctx.env));
}

/**
 * The verb's own flags, completed with those commander parsed on the parent `provide` command: `provide` takes the same
 * flags (e.g. --data-dir), and without positional options commander gives a flag to the first command that declares it.
 */
export function withParentFlags<T extends object>(flags: T, ctx: Context, keys: readonly string[]): T {
  const parent = ctx.globals as unknown as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...(flags as Record<string, unknown>) };
  for (const key of keys) if (merged[key] === undefined && parent[key] !== undefined) merged[key] = parent[key];
  return merged as T;
}
