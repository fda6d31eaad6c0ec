import type { CommandSpec } from '../spec.js';

export const walletAirdrop: CommandSpec<{ sol: string; tokens?: string }> = {
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
  async run([address], options, ctx) {
    const { runAirdrop } = await import('./airdrop-run.js');
    return runAirdrop(address, options, ctx);
  },
};
