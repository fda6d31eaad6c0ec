// `iocli provide unbond`: stop offering GPUs and get their bond back after the cooldown (never while a lease runs on them).
import type { CommandSpec } from '../spec.js';
import type { BondOptions } from './bond-run.js';
import { withParentFlags } from './shared.js';

export const provideUnbond: CommandSpec<BondOptions> = {
  path: 'provide unbond',
  summary: 'Start the unbonding cooldown; the bond is paid back once it ends and no lease holds the GPU',
  options: [
    { flags: '--gpus <list>', description: 'GPUs to unbond: all (default), indexes like 0,1, or GPU UUIDs' },
    { flags: '--data-dir <path>', description: "the agent's data folder (default ~/.local/share/iocli/provider)" },
    { flags: '--node <id>', description: 'unbond this node id instead of the one registered from the data folder' },
  ],
  examples: ['iocli provide unbond --yes', 'iocli provide unbond --gpus 3 --yes --json'],
  async run(_args, ownFlags, ctx) {
    const { runUnbond } = await import('./bond-run.js');
    return runUnbond(withParentFlags(ownFlags, ctx, ['dataDir', 'gpus']), ctx);
  },
};
