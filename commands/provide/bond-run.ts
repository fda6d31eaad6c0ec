// `provide bond` / `provide unbond`: the work behind the two verbs (loaded only when one runs).
import type { NodeBond } from '../../src/api/schemas.js';
import { UsageError } from '../../src/errors.js';
import { tokens } from '../../src/renter/format.js';
import type { Context } from '../context.js';
import { confirmOrFail } from '../prompts.js';
import type { HumanRenderer } from '../output.js';
import type { CommandResult } from '../spec.js';
import { dataDirFrom } from './shared.js';

export interface BondOptions {
  dataDir?: string;
  node?: string;
  gpus?: string;
}

async function nodeIdFrom(options: BondOptions, ctx: Context): Promise<string> {
  if (options.node) return options.node;
  const { readAgentState } = await import('../../src/provider/data-dir.js');
  const dataDir = await dataDirFrom(options.dataDir, ctx);
  const state = await readAgentState(dataDir);
  if (!state.nodeId) throw new UsageError(`No node has been registered from ${dataDir}.`, { hint: 'Start providing with `iocli provide` first, or pass --node ID.' });
  return state.nodeId;
}

/** `--gpus` as UUIDs, or as indexes of the node's GPUs (0,1,3). */
function selectGpus(flag: string | undefined, bond: NodeBond): string[] | undefined {
  if (!flag || flag === 'all') return undefined;
  const indexes = flag.split(',').map((part) => part.trim()).filter(Boolean);
  return indexes.map((part) => {
    if (/^\d+$/.test(part)) {
      const gpu = bond.gpus[Number(part)];
      if (!gpu) throw new UsageError(`--gpus ${flag}: the node has ${bond.gpus.length} GPU(s).`, { hint: 'Use indexes from `iocli provide status` or GPU UUIDs.' });
      return gpu.uuid;
    }
    return part;
  });
}

export function renderBond(bond: NodeBond, decimals: number) {
  return (r: HumanRenderer) => {
    r.keyValues([
      ['Node', bond.nodeId],
      ['Bond held', `${tokens(bond.held, decimals)} tokens`],
      ['Unbond cooldown', `${Math.round(bond.cooldownMs / 3_600_000)} h`],
    ]);
    r.table(['#', 'GPU', 'Model', 'State', 'Balance', 'Required', 'Returned after'], bond.gpus.map((g, i) => [i, g.uuid, g.model, g.state, tokens(g.balance, decimals), tokens(g.required, decimals), g.unbondAt ?? '']));
  };
}

export async function runBond(options: BondOptions, ctx: Context): Promise<CommandResult> {
  const nodeId = await nodeIdFrom(options, ctx);
  const api = await ctx.api();
  const [current, network] = await Promise.all([api.nodeBond(nodeId, { signal: ctx.signal }), ctx.network({ required: true })]);
  const gpus = selectGpus(options.gpus, current);
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

export async function runUnbond(options: BondOptions, ctx: Context): Promise<CommandResult> {
  const nodeId = await nodeIdFrom(options, ctx);
  const api = await ctx.api();
  const [current, network] = await Promise.all([api.nodeBond(nodeId, { signal: ctx.signal }), ctx.network()]);
  const gpus = selectGpus(options.gpus, current);
  await confirmOrFail(ctx, `Unbond ${gpus ? `${gpus.length} GPU(s)` : 'every GPU'} of ${nodeId}? They stop being offered now; the bond comes back after the cooldown.`, { action: 'Unbonding (the GPUs stop being offered)' });
  const bond = await api.unbond(nodeId, { ...(gpus ? { gpus } : {}) }, { signal: ctx.signal });
  return { data: { bond }, human: renderBond(bond, network.decimals) };
}
