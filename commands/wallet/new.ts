// `iocli wallet new`: a new keypair file, never overwriting one without --force.
import type { CommandSpec } from '../spec.js';

export interface WalletNewOptions {
  outfile?: string;
  force: boolean;
}

export const walletNew: CommandSpec<WalletNewOptions> = {
  path: 'wallet new',
  summary: 'Create a new wallet keypair file (mode 0600)',
  description:
    'Create a new Solana keypair in the Solana CLI JSON format. Written to --outfile, else to the configured keypair path,\n' +
    'else ~/.config/solana/id.json if that exists, else the iocli config folder. Never overwrites without --force.',
  options: [
    { flags: '-o, --outfile <path>', description: 'where to write the keypair file' },
    { flags: '-f, --force', description: 'overwrite an existing keypair file' },
  ],
  examples: ['iocli wallet new', 'iocli wallet new --outfile ./renter.json', 'iocli wallet new --json'],
  parse: ({ flags }) => ({ ...(flags.outfile !== undefined ? { outfile: String(flags.outfile) } : {}), force: Boolean(flags.force) }),
  async run(options, ctx) {
    const { expandHome, generateKeypair, writeKeypairFile } = await import('../../src/wallet/keypair.js');
    const path = options.outfile ? expandHome(options.outfile) : await ctx.keypairPath();
    const keypair = generateKeypair();
    await writeKeypairFile(path, keypair, { force: options.force });
    return {
      data: { publicKey: keypair.publicKey, path },
      human: (r) => {
        r.success(`Created a new wallet at ${path}`);
        r.keyValues({ 'Public key': keypair.publicKey });
        r.line(r.colors.dim('Back this file up: whoever holds it controls the funds. It is never printed or sent.'));
      },
    };
  },
};
