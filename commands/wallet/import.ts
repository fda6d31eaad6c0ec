// `iocli wallet import SOURCE`: an existing keypair (JSON bytes or base58), validated, written with mode 0600.
import type { CommandSpec } from '../spec.js';

export interface WalletImportOptions {
  /** A file path, or - for standard input. */
  source: string;
  outfile?: string;
  force: boolean;
}

export const walletImport: CommandSpec<WalletImportOptions> = {
  path: 'wallet import',
  summary: 'Import an existing keypair (JSON byte array or base58 secret key)',
  description:
    'Import a keypair from a file, or from standard input with "-". Accepts the Solana CLI JSON array of 64 bytes\n' +
    'or a base58-encoded 64-byte secret key (as browser wallets export). The key is validated, then written with mode 0600.',
  args: ['<source>'],
  options: [
    { flags: '-o, --outfile <path>', description: 'where to write the keypair file' },
    { flags: '-f, --force', description: 'overwrite an existing keypair file' },
  ],
  examples: ['iocli wallet import ~/backup/id.json', 'pbpaste | iocli wallet import - --outfile ~/.config/iocli/id.json'],
  parse: ({ args: [source], flags }) => ({ source: source!, ...(flags.outfile !== undefined ? { outfile: String(flags.outfile) } : {}), force: Boolean(flags.force) }),
  async run(options, ctx) {
    const { source } = options;
    const { readFile } = await import('node:fs/promises');
    const { expandHome, parseKeypair, writeKeypairFile } = await import('../../src/wallet/keypair.js');
    const { UserError } = await import('../../src/errors.js');
    let text: string;
    if (source === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      text = Buffer.concat(chunks).toString('utf8');
    } else {
      try {
        text = await readFile(expandHome(source), 'utf8');
      } catch (error) {
        throw new UserError(`Cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`, { hint: 'Give the path of a keypair file, or - to read standard input.' });
      }
    }
    const keypair = parseKeypair(text, source === '-' ? 'from standard input' : source);
    const path = options.outfile ? expandHome(options.outfile) : await ctx.keypairPath();
    await writeKeypairFile(path, keypair, { force: options.force });
    return {
      data: { publicKey: keypair.publicKey, path },
      human: (r) => {
        r.success(`Imported wallet to ${path}`);
        r.keyValues({ 'Public key': keypair.publicKey });
      },
    };
  },
};
