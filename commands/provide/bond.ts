// `iocli provide bond`: deposit the bond per GPU this coordinator asks (GET /v1/network); only bonded GPUs are offered.
import type { CommandSpec } from '../spec.js';
import type { BondOptions } from './bond-run.js';
import { withParentFlags } from './shared.js';

export const provideBond: CommandSpec<BondOptions> = {
  path: 'provide bond',
  summary: "Deposit this node's GPU bond (a signed token transfer; only bonded GPUs are offered)",
  options: [
    { flags: '--gpus <list>', description: 'GPUs to bond: all (default), indexes like 0,1, or GPU UUIDs' },
    { flags: '--data-dir <path>', description: "the agent's data folder (default ~/.local/share/iocli/provider)" },
    { flags: '--node <id>', description: 'bond this node id instead of the one registered from the data folder' },
  ],
  examples: ['iocli provide bond', 'iocli provide bond --gpus 0,1 --yes', 'iocli provide bond --json --yes'],
  async run(_args, ownFlags, ctx) {
    const { runBond } = await import('./bond-run.js');
    return runBond(withParentFlags(ownFlags, ctx, ['dataDir', 'gpus']), ctx);
  },
};
