// `iocli provide unbond`: stop offering GPUs and get their bond back after the cooldown (never while a lease runs on them).
import type { Context } from '../context.js';
import type { CommandResult, CommandSpec } from '../spec.js';
import { bondNodeId, parseBondOptions, type BondOptions } from './bond.js';

export const provideUnbond: CommandSpec<BondOptions> = {
  path: 'provide unbond',
  summary: 'Start the unbonding cooldown; the bond is paid back once it ends and no lease holds the GPU',
  options: [
    { flags: '--gpus <list>', description: 'GPUs to unbond: all (default), indexes like 0,1, or GPU UUIDs' },
    { flags: '--data-dir <path>', description: "the agent's data folder (default ~/.local/share/iocli/provider)" },
    { flags: '--node <id>', description: 'unbond this node id instead of the one registered from the data folder' },
  ],
  examples: ['iocli provide unbond --yes', 'iocli provide unbond --gpus 3 --yes --json'],
  parse: parseBondOptions,
  run: runUnbond,
};

export async function runUnbond(options: BondOptions, ctx: Context): Promise<CommandResult> {
  const nodeId = await bondNodeId(options);
  const api = await ctx.api();
  const [current, network, { selectBondGpus }, { renderBond }, { confirmOrFail }] = await Promise.all([
    api.nodeBond(nodeId, { signal: ctx.signal }),
    ctx.network(),
    import('../../src/provider/options.js'),
    import('../render/bond.js'),
    import('../prompts.js'),
  ]);
  const gpus = selectBondGpus(options.gpus, current.gpus);
  await confirmOrFail(ctx, `Unbond ${gpus ? `${gpus.length} GPU(s)` : 'every GPU'} of ${nodeId}? They stop being offered now; the bond comes back after the cooldown.`, { action: 'Unbonding (the GPUs stop being offered)' });
  const bond = await api.unbond(nodeId, { ...(gpus ? { gpus } : {}) }, { signal: ctx.signal });
  return { data: { bond }, human: renderBond(bond, network.decimals) };
}
