// `iocli wallet airdrop [ADDRESS]`: test SOL from the cluster faucet and test tokens from the coordinator's faucet.
import { UsageError } from '../../src/errors.js';
import type { Context } from '../context.js';
import type { CommandResult, CommandSpec } from '../spec.js';
import { checkedAddress } from './balance.js';

export interface WalletAirdropOptions {
  /** Default: the wallet's own address. */
  address?: string;
  sol: number;
  /** Test payment tokens, as the coordinator's faucet takes them (a decimal string). */
  tokens?: string;
}

export const walletAirdrop: CommandSpec<WalletAirdropOptions> = {
  path: 'wallet airdrop',
  summary: 'Fund a wallet with test SOL and test tokens (local network / devnet only)',
  description:
    'Request test SOL from the cluster faucet (local network or devnet), and test payment tokens from the\n' +
    "coordinator's faucet, which only a coordinator in local/dev mode offers. Never works on mainnet-beta.",
  args: ['[address]'],
  options: [
    { flags: '--sol <amount>', description: 'SOL to request', defaultValue: '2' },
    { flags: '--tokens <amount>', description: 'test payment tokens to request (local network only)' },
  ],
  examples: ['iocli wallet airdrop', 'iocli wallet airdrop --sol 1 --tokens 500', 'iocli wallet airdrop 9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin --json'],
  parse({ args: [address], flags }) {
    const f = flags as { sol: string; tokens?: string };
    const sol = Number(f.sol);
    if (!Number.isFinite(sol) || sol < 0 || sol > 1000) throw new UsageError(`Invalid --sol "${f.sol}".`, { hint: 'Use a number between 0 and 1000.' });
    return { ...(address !== undefined ? { address: checkedAddress(address) } : {}), sol, ...(f.tokens !== undefined ? { tokens: f.tokens } : {}) };
  },
  run: runAirdrop,
};

export async function runAirdrop(options: WalletAirdropOptions, ctx: Context): Promise<CommandResult> {
  const [{ UserError }, { LAMPORTS_PER_SOL, rpcCall }, { rpcSignatureReader, waitForSignatureOutcome }] = await Promise.all([
    import('../../src/errors.js'),
    import('../../src/wallet/rpc.js'),
    import('../../src/wallet/signature-status.js'),
  ]);
  const settings = await ctx.settings();
  // The same chain `wallet balance` and payments use (an override, else the coordinator's, else the profile's).
  const { rpcUrl } = await ctx.network();
  if (settings.profile === 'mainnet-beta' || /mainnet/.test(rpcUrl)) {
    throw new UserError('Airdrops do not exist on mainnet-beta.', { hint: 'Buy SOL and the payment token on an exchange, then send them to your address.' });
  }
  const owner = options.address ?? (await ctx.keypair()).publicKey;
  const { sol } = options;
  const result: { address: string; rpcUrl: string; sol?: { amount: number; signature: string }; tokens?: { amount: string; signature: string } } = { address: owner, rpcUrl };
  const spinner = await ctx.out.spinner(`Requesting ${sol} SOL for ${owner}`);
  try {
    if (sol > 0) {
      const signature = await rpcCall<string>(rpcUrl, 'requestAirdrop', [owner, Math.round(sol * LAMPORTS_PER_SOL), { commitment: 'confirmed' }]);
      const timeoutMs = 30_000;
      const outcome = await waitForSignatureOutcome(rpcSignatureReader(rpcUrl), signature, { timeoutMs, signal: ctx.signal, now: ctx.now });
      if (outcome.status === 'failed') throw new UserError(`Airdrop transaction ${signature} failed.`, { details: { err: outcome.err } });
      if (outcome.status === 'unknown') {
        throw new UserError(`Airdrop ${signature} was not confirmed within ${timeoutMs / 1000}s.`, { hint: 'Check the cluster with `iocli wallet balance`; devnet faucets are rate-limited.' });
      }
      result.sol = { amount: sol, signature };
    }
    if (options.tokens !== undefined) {
      spinner.update(`Requesting ${options.tokens} test tokens from the coordinator faucet`);
      const api = await ctx.api({ signed: false });
      const faucet = await api.faucet({ address: owner, tokens: options.tokens });
      result.tokens = { amount: options.tokens, signature: faucet.signature ?? '' };
    }
    spinner.succeed(`Funded ${owner}`);
  } catch (error) {
    spinner.fail('Airdrop failed');
    throw error;
  }
  return {
    data: result,
    human: (r) =>
      r.keyValues({
        Address: owner,
        SOL: result.sol ? `${result.sol.amount} (signature ${result.sol.signature})` : undefined,
        Tokens: result.tokens ? `${result.tokens.amount} (signature ${result.tokens.signature})` : undefined,
      }),
  };
}
