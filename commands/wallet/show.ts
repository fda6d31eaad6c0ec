// `iocli wallet show`: the wallet's public key and where its file is.
import type { CommandSpec } from '../spec.js';

export const walletShow: CommandSpec<Record<string, never>> = {
  path: 'wallet show',
  summary: "Print the wallet's public key (never the secret)",
  examples: ['iocli wallet show', 'iocli wallet show --keypair ./renter.json --json'],
  parse: () => ({}),
  async run(_options, ctx) {
    const path = await ctx.keypairPath();
    const { publicKey } = await ctx.keypair();
    return {
      data: { publicKey, path },
      human: (r) => r.keyValues({ 'Public key': publicKey, 'Keypair file': path }),
    };
  },
};
