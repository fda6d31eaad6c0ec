// Flag parsing shared by `iocli network up|down|status` (light: no src/ work is loaded here).
import type { OptionSpec } from '../spec.js';
import type { Context } from '../context.js';

export const dataDirOption: OptionSpec = { flags: '--data-dir <dir>', description: 'where the network keeps its data (default: $IOCLI_DATA_DIR or ~/.local/share/iocli/network)' };

export async function dataDirOf(options: { dataDir?: string }, ctx: Context): Promise<string> {
  const { defaultNetworkDir } = await import('../../src/network/local-network.js');
  const { resolve } = await import('node:path');
  return resolve(options.dataDir ?? defaultNetworkDir(ctx.env));
}
