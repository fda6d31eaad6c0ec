import type { CommandSpec } from '../spec.js';

export const walletBalance: CommandSpec = {
  path: 'wallet balance',
  summary: 'Show SOL and payment-token balances',
  description: "Show the SOL balance and the network's payment token balance (the mint comes from the coordinator).",
  args: ['[address]'],
  examples: ['iocli wallet balance', 'iocli wallet balance 9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin --url devnet', 'iocli wallet balance --json'],
  async run([address], _options, ctx) {
    const owner = address ?? (await ctx.keypair()).publicKey;
    const { fetchWalletBalances } = await import('../../src/wallet/rpc.js');
    const { isBase58Address } = await import('../../src/wallet/address.js');
    const { UsageError } = await import('../../src/errors.js');
    if (!isBase58Address(owner)) throw new UsageError(`"${owner}" is not a Solana address.`, { hint: 'Addresses are 32-44 base58 characters.' });
    const network = await ctx.network();
    if (network.unreachable !== undefined) ctx.out.warn('The coordinator is not reachable, so only the SOL balance is shown.');
    const rpcUrl = network.rpcUrl;
    const balances = await fetchWalletBalances(rpcUrl, owner, network.mint ?? undefined, { decimals: network.decimals });
    return {
      data: { ...balances, rpcUrl, symbol: network.symbol },
      human: (r) =>
        r.keyValues({
          Address: owner,
          SOL: balances.sol,
          [network.symbol ?? 'Tokens']: balances.token ? balances.token.uiAmount : undefined,
          RPC: rpcUrl,
        }),
    };
  },
};
