// `iocli wallet balance [ADDRESS]`: SOL and the network's payment token, read from the chain the coordinator names.
import { UsageError } from '../../src/errors.js';
import { isBase58Address } from '../../src/wallet/address.js';
import type { CommandSpec } from '../spec.js';

export interface WalletBalanceOptions {
  /** Default: the wallet's own address. */
  address?: string;
}

export const walletBalance: CommandSpec<WalletBalanceOptions> = {
  path: 'wallet balance',
  summary: 'Show SOL and payment-token balances',
  description: "Show the SOL balance and the network's payment token balance (the mint comes from the coordinator).",
  args: ['[address]'],
  examples: ['iocli wallet balance', 'iocli wallet balance 9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin --url devnet', 'iocli wallet balance --json'],
  parse: ({ args: [address] }) => (address === undefined ? {} : { address: checkedAddress(address) }),
  async run({ address }, ctx) {
    const owner = address ?? (await ctx.keypair()).publicKey;
    const { fetchWalletBalances } = await import('../../src/wallet/rpc.js');
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

/** A Solana address given on the command line (`wallet balance`, `wallet airdrop`). */
export function checkedAddress(value: string): string {
  if (!isBase58Address(value)) throw new UsageError(`"${value}" is not a Solana address.`, { hint: 'Addresses are 32-44 base58 characters.' });
  return value;
}
