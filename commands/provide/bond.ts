// `iocli provide bond`: deposit the bond per GPU this coordinator asks (GET /v1/network); only bonded GPUs are offered.
import type { NodeBond } from '../../src/api/schemas/provider-trust.js';
import { UsageError } from '../../src/errors.js';
import { providerDataDir } from '../../src/provider/data-dir.js';
import type { Context } from '../context.js';
import type { CommandResult, CommandSpec, ParsedArgv } from '../spec.js';

/** `provide bond` and `provide unbond` take the same options. */
export interface BondOptions {
  dataDir: string;
  /** Default: the node registered from dataDir. */
  node?: string;
  /** all (undefined), indexes or UUIDs: resolved against the node's bond once it is read. */
  gpus?: string;
}

export function parseBondOptions({ flags, env }: ParsedArgv): BondOptions {
  const f = flags as { dataDir?: string; node?: string; gpus?: string };
  return { dataDir: providerDataDir(f.dataDir, env), ...(f.node ? { node: f.node } : {}), ...(f.gpus !== undefined ? { gpus: f.gpus } : {}) };
}

export const provideBond: CommandSpec<BondOptions> = {
  path: 'provide bond',
  summary: "Deposit this node's GPU bond (a signed token transfer; only bonded GPUs are offered)",
  options: [
    { flags: '--gpus <list>', description: 'GPUs to bond: all (default), indexes like 0,1, or GPU UUIDs' },
    { flags: '--data-dir <path>', description: "the agent's data folder (default ~/.local/share/iocli/provider)" },
    { flags: '--node <id>', description: 'bond this node id instead of the one registered from the data folder' },
  ],
  examples: ['iocli provide bond', 'iocli provide bond --gpus 0,1 --yes', 'iocli provide bond --json --yes'],
  parse: parseBondOptions,
  run: runBond,
};

/** The node to bond or unbond: --node, else the one registered from the data folder. */
export async function bondNodeId(options: BondOptions): Promise<string> {
  if (options.node) return options.node;
  const { readAgentState } = await import('../../src/provider/data-dir.js');
  const state = await readAgentState(options.dataDir);
  if (!state.nodeId) throw new UsageError(`No node has been registered from ${options.dataDir}.`, { hint: 'Start providing with `iocli provide` first, or pass --node ID.' });
  return state.nodeId;
}

export async function runBond(options: BondOptions, ctx: Context): Promise<CommandResult> {
  const nodeId = await bondNodeId(options);
  const api = await ctx.api();
  const [current, network, { selectBondGpus }, { renderBond }, { tokens }] = await Promise.all([
    api.nodeBond(nodeId, { signal: ctx.signal }),
    ctx.network({ required: true }),
    import('../../src/provider/options.js'),
    import('../render/bond.js'),
    import('../../src/renter/format.js'),
  ]);
  const gpus = selectBondGpus(options.gpus, current.gpus);
  const { ApiError } = await import('../../src/api/client.js');
  let asked: { amount: number; reference: string } | undefined;
  try {
    // Without a payment the coordinator names the amount and the memo reference (402), or bonds at once (dev, unpaid).
    const bonded = await api.bond(nodeId, { ...(gpus ? { gpus } : {}) }, { signal: ctx.signal });
    return { data: { bond: bonded, payment: null }, human: renderBond(bonded, network.decimals) };
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 402) throw error;
    asked = error.details as { amount: number; reference: string };
  }
  const { confirmOrFail } = await import('../prompts.js');
  await confirmOrFail(ctx, `Deposit ${tokens(asked.amount, network.decimals)} tokens as the bond of node ${nodeId}?`, { action: 'Bonding', spendsTokens: true, cancelled: 'Cancelled: nothing was paid.' });
  const payments = await import('../../src/renter/payment.js');
  if (!network.coordinator) throw new UsageError('The coordinator did not say which network it uses, so the bond cannot be paid.', { hint: 'Check --api-url and try again.' });
  const plan = { network: network.coordinator, rpcUrl: network.rpcUrl, payer: await ctx.keypair(), amount: asked.amount, reference: asked.reference };
  await payments.ensureAffordable(plan);
  const prepared = await payments.preparePayment(plan);
  const spinner = await ctx.out.spinner(`Depositing ${tokens(asked.amount, network.decimals)} tokens as the bond of ${nodeId}`);
  let bonded: NodeBond;
  try {
    bonded = await api.bond(nodeId, { ...(gpus ? { gpus } : {}), reference: asked.reference, payment: { transaction: prepared.transaction } }, { signal: ctx.signal });
    spinner.succeed(`Bonded: ${tokens(bonded.held, network.decimals)} tokens held`);
  } catch (error) {
    spinner.fail('The bond was not recorded');
    throw error;
  }
  return { data: { bond: bonded, payment: { amount: asked.amount, signature: prepared.signature, reference: asked.reference } }, human: renderBond(bonded, network.decimals) };
}
