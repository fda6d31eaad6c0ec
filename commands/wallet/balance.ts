import type { CommandSpec } from '../spec.js';

export const walletBalance: CommandSpec = {
  path: 'wallet balance',
  summary: 'Show SOL and payment-token balances',
  description: "Show the SOL balance and the network's payment token balance (the mint comes from the coordinator).",
  args: ['[address]'],
  examples: ['iocli wallet balance', 'iocli wallet balance 9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin --url devnet', 'iocli wallet balance --json'],
  async run([address], _options, ctx) {
    const settings = await ctx.settings();
    const owner = address ?? (await ctx.keypair()).publicKey;
    const { fetchWalletBalances } = await import('../../src/wallet/rpc.js');
    const { isBase58Address } = await import('../../src/wallet/address.js');
    const { UsageError } = await import('../../src/errors.js');
    if (!isBase58Address(owner)) throw new UsageError(`"${owner}" is not a Solana address.`, { hint: 'Addresses are 32-44 base58 characters.' });
    const network = await learnNetwork(ctx);
    const rpcUrl = settings.sources.rpcUrl === 'flag' || settings.sources.rpcUrl === 'env' || !network ? settings.rpcUrl : network.rpcUrl;
    const balances = await fetchWalletBalances(rpcUrl, owner, network?.mint, { decimals: network?.decimals });
    return {
      data: { ...balances, rpcUrl, symbol: network?.symbol },
      human: (r) =>
        r.keyValues({
          Address: owner,
          SOL: balances.sol,
          [network?.symbol ?? 'Tokens']: balances.token ? balances.token.uiAmount : undefined,
          RPC: rpcUrl,
        }),
    };
  },
};

/** The coordinator names the payment mint; without one, only SOL can be shown. */
async function learnNetwork(ctx: Parameters<CommandSpec['run']>[2]): Promise<{ rpcUrl: string; mint?: string; symbol?: string; decimals: number } | undefined> {
  try {
    const info = await (await ctx.api({ signed: false })).network();
    return { rpcUrl: info.rpcUrl, mint: info.mint ?? undefined, symbol: info.symbol, decimals: info.decimals };
  } catch {
    ctx.out.warn('The coordinator is not reachable, so only the SOL balance is shown.');
    return undefined;
  }
}
