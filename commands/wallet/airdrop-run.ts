// The work behind `iocli wallet airdrop`, kept out of the spec file so --help stays light.
import { UsageError, UserError } from '../../src/errors.js';
import { isBase58Address } from '../../src/wallet/address.js';
import { LAMPORTS_PER_SOL, rpcCall } from '../../src/wallet/rpc.js';
import type { Context } from '../context.js';
import type { CommandResult } from '../spec.js';

export async function runAirdrop(address: string | undefined, options: { sol: string; tokens?: string }, ctx: Context): Promise<CommandResult> {
  const settings = await ctx.settings();
  // The same chain `wallet balance` and payments use (an override, else the coordinator's, else the profile's).
  const { rpcUrl } = await ctx.network();
  if (settings.profile === 'mainnet-beta' || /mainnet/.test(rpcUrl)) {
    throw new UserError('Airdrops do not exist on mainnet-beta.', { hint: 'Buy SOL and the payment token on an exchange, then send them to your address.' });
  }
  const owner = address ?? (await ctx.keypair()).publicKey;
  if (!isBase58Address(owner)) throw new UsageError(`"${owner}" is not a Solana address.`);
  const sol = Number(options.sol);
  if (!Number.isFinite(sol) || sol < 0 || sol > 1000) throw new UsageError(`Invalid --sol "${options.sol}".`, { hint: 'Use a number between 0 and 1000.' });

  const result: { address: string; rpcUrl: string; sol?: { amount: number; signature: string }; tokens?: { amount: string; signature: string } } = { address: owner, rpcUrl };
  const spinner = await ctx.out.spinner(`Requesting ${sol} SOL for ${owner}`);
  try {
    if (sol > 0) {
      const signature = await rpcCall<string>(rpcUrl, 'requestAirdrop', [owner, Math.round(sol * LAMPORTS_PER_SOL), { commitment: 'confirmed' }]);
      await waitForSignature(rpcUrl, signature, ctx.signal);
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

async function waitForSignature(rpcUrl: string, signature: string, signal: AbortSignal, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal.aborted) {
    const { value } = await rpcCall<{ value: Array<{ confirmationStatus?: string; err: unknown } | null> }>(rpcUrl, 'getSignatureStatuses', [[signature]]);
    const status = value[0];
    if (status?.err) throw new UserError(`Airdrop transaction ${signature} failed.`, { details: { err: status.err } });
    if (status && (status.confirmationStatus === 'confirmed' || status.confirmationStatus === 'finalized')) return;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new UserError(`Airdrop ${signature} was not confirmed within ${timeoutMs / 1000}s.`, { hint: 'Check the cluster with `iocli wallet balance`; devnet faucets are rate-limited.' });
}
