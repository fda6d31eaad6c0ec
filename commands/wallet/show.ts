import type { CommandSpec } from '../spec.js';

export const walletShow: CommandSpec = {
  path: 'wallet show',
  summary: "Print the wallet's public key (never the secret)",
  examples: ['iocli wallet show', 'iocli wallet show --keypair ./renter.json --json'],
  async run(_args, _options, ctx) {
    const path = await ctx.keypairPath();
    const { publicKey } = await ctx.keypair();
    return {
      data: { publicKey, path },
      human: (r) => r.keyValues({ 'Public key': publicKey, 'Keypair file': path }),
    };
  },
};
