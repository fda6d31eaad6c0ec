// A token bond per GPU: deposited as a signed transfer to the treasury (verified like lease payments), returned through
// the payout outbox after a cooldown when no lease holds the GPU, and slashed exactly once per trigger (a failed GPU
// challenge, a lease that ends by node fault): the renter's share is paid through the outbox, the rest stays with the
// network. Every movement is a ledger row on the owner's `bond` balance.
import { randomBytes } from 'node:crypto';
import type { BondTerms, NodeBond } from '../api/schemas/provider-trust.js';
import { GPU_CATALOGUE, resolveGpuModel } from '../domain/gpu-catalogue.js';
import { iso, isUniqueViolation, newId, type CoordinatorContext } from './context.js';
import type { Db } from './db.js';
import { conflict, HttpError } from './http-error.js';
import { nodeFor } from './nodes.js';
import { takePayment } from './payments.js';

export interface BondSettings {
  /** How long unbonding GPUs wait before their bond is returned. */
  cooldownMs: number;
  /** Base units per GPU by catalogue model id; models not listed use a day of their suggested price. */
  perGpu: Record<string, number>;
  unknownPerGpu: number;
  simulatedPerGpu: number;
  failedChallengeBps: number;
  nodeFaultBps: number;
  /** Share of a node-fault slash paid to the affected renter (the rest stays with the network). */
  renterShareBps: number;
}

const TOKEN = 1_000_000;
export const DEFAULT_BOND_SETTINGS: BondSettings = {
  cooldownMs: 7 * 86_400_000,
  perGpu: {},
  unknownPerGpu: 10 * TOKEN,
  simulatedPerGpu: 1 * TOKEN,
  failedChallengeBps: 1_000,
  nodeFaultBps: 2_000,
  renterShareBps: 5_000,
};

export function bondSettings(ctx: { options: { bonds?: Partial<BondSettings> } }): BondSettings {
  return { ...DEFAULT_BOND_SETTINGS, ...ctx.options.bonds };
}

/** Base units one GPU of `model` must bond: the setting, else a day of its suggested price. */
export function bondPerGpu(settings: BondSettings, model: string, simulated: boolean): number {
  if (simulated) return settings.simulatedPerGpu;
  const resolved = resolveGpuModel(model);
  if (resolved.id === 'unknown' || resolved.suggestedPricePerGpuHour === null) return settings.unknownPerGpu;
  return settings.perGpu[resolved.id] ?? resolved.suggestedPricePerGpuHour * 24;
}

/** What GET /v1/network announces. */
export function bondTerms(settings: BondSettings, dev: boolean): BondTerms {
  return {
    required: !dev,
    cooldownMs: settings.cooldownMs,
    perGpu: Object.fromEntries(GPU_CATALOGUE.map((entry) => [entry.id, bondPerGpu(settings, entry.name, false)])),
    unknownPerGpu: settings.unknownPerGpu,
    simulatedPerGpu: settings.simulatedPerGpu,
    slashBps: { failedChallenge: settings.failedChallengeBps, nodeFault: settings.nodeFaultBps, renterShare: settings.renterShareBps },
  };
}

/** The node's bond per GPU, and what each would require. */
export async function nodeBond(ctx: CoordinatorContext, nodeId: string, actor: string): Promise<NodeBond> {
  await nodeFor(ctx, nodeId, actor);
  const settings = bondSettings(ctx);
  const node = await ctx.db.selectFrom('nodes').select('simulated').where('id', '=', nodeId).executeTakeFirstOrThrow();
  const gpus = await ctx.db.selectFrom('gpus').select(['uuid', 'model']).where('node_id', '=', nodeId).orderBy('idx').execute();
  const bonds = await ctx.db.selectFrom('bonds').selectAll().where('node_id', '=', nodeId).where('state', 'in', ['active', 'unbonding']).execute();
  const byGpu = new Map(bonds.map((b) => [b.gpu_uuid, b]));
  return {
    nodeId,
    gpus: gpus.map((g) => {
      const bond = byGpu.get(g.uuid);
      return {
        uuid: g.uuid,
        model: g.model,
        required: bondPerGpu(settings, g.model, Boolean(node.simulated)),
        state: (bond?.state ?? 'unbonded') as 'unbonded' | 'active' | 'unbonding',
        amount: Number(bond?.amount ?? 0),
        balance: Number(bond?.balance ?? 0),
        unbondAt: bond?.unbond_at == null ? null : iso(Number(bond.unbond_at)),
      };
    }),
    held: bonds.reduce((sum, b) => sum + Number(b.balance), 0),
    cooldownMs: settings.cooldownMs,
  };
}

/**
 * Bond the node's unbonded GPUs (all, or `gpus`). Without a payment (on a coordinator that takes payments) the answer is
 * a 402 naming the amount and the memo reference to sign; with one, the transfer is verified, submitted and confirmed
 * before anything is recorded.
 */
export async function bondGpus(ctx: CoordinatorContext, nodeId: string, actor: string, input: { gpus?: string[]; reference?: string; payment?: { transaction: string } }): Promise<NodeBond> {
  const current = await nodeBond(ctx, nodeId, actor);
  const wanted = input.gpus ? new Set(input.gpus) : undefined;
  if (wanted) for (const uuid of wanted) if (!current.gpus.some((g) => g.uuid === uuid)) throw new HttpError(400, 'BAD_REQUEST', `GPU ${uuid} is not a GPU of node ${nodeId}.`);
  const toBond = current.gpus.filter((g) => g.state === 'unbonded' && (!wanted || wanted.has(g.uuid)));
  if (toBond.length === 0) throw conflict('ALREADY_BONDED', `Every requested GPU of node ${nodeId} is bonded (or unbonding).`, 'See `iocli provide status`.');
  const amount = toBond.reduce((sum, g) => sum + g.required, 0);
  const referencePrefix = `bond:${nodeId}:`;
  if (input.reference !== undefined && !input.reference.startsWith(referencePrefix)) throw new HttpError(400, 'BAD_REQUEST', `A bond reference for this node starts with ${referencePrefix}.`);
  const reference = input.reference ?? `${referencePrefix}${randomBytes(8).toString('hex')}`;
  if (!input.payment && ctx.options.paymentVerifier) {
    throw new HttpError(402, 'PAYMENT_REQUIRED', `Bonding ${toBond.length} GPU(s) takes ${amount} base units (payment.transaction, memo reference ${reference}).`, 'iocli signs the transfer for you: `iocli provide bond`.', {
      amount,
      reference,
      gpus: toBond.map((g) => g.uuid),
    });
  }
  const signature = await takePayment(ctx, actor, amount, reference, input.payment);
  const now = ctx.options.now();
  await ctx.engine.writeTransaction(async (trx) => {
    await ctx.engine.lockAccount(trx, `bond:${nodeId}`);
    const taken = await trx.selectFrom('bonds').select('gpu_uuid').where('node_id', '=', nodeId).where('state', 'in', ['active', 'unbonding']).where('gpu_uuid', 'in', toBond.map((g) => g.uuid)).execute();
    if (taken.length > 0) throw conflict('ALREADY_BONDED', `GPU ${taken[0]!.gpu_uuid} was bonded meanwhile.`, 'The payment is refunded by the payment recovery; retry `iocli provide bond`.');
    for (const gpu of toBond) {
      await trx.insertInto('bonds').values({ id: newId('bond'), node_id: nodeId, gpu_uuid: gpu.uuid, owner: actor, amount: gpu.required, balance: gpu.required, state: 'active', payment_signature: signature, unbond_at: null, payout_id: null, created_at: now, updated_at: now }).execute();
    }
    await trx.insertInto('ledger').values({ kind: 'bond', account: actor, amount, lease_id: null, claim_id: signature, created_at: now }).execute();
    if (signature) await trx.updateTable('payments').set({ state: 'used' }).where('signature', '=', signature).execute();
    await trx.updateTable('gpus').set({ bonded: 1 }).where('node_id', '=', nodeId).where('uuid', 'in', toBond.map((g) => g.uuid)).execute();
  });
  return nodeBond(ctx, nodeId, actor);
}

/** Start the cooldown for the node's active bonds (all, or `gpus`): the GPUs stop being offered at once. */
export async function unbondGpus(ctx: CoordinatorContext, nodeId: string, actor: string, input: { gpus?: string[] }): Promise<NodeBond> {
  await nodeFor(ctx, nodeId, actor);
  const now = ctx.options.now();
  const unbondAt = now + bondSettings(ctx).cooldownMs;
  await ctx.engine.writeTransaction(async (trx) => {
    let q = trx.selectFrom('bonds').select(['id', 'gpu_uuid']).where('node_id', '=', nodeId).where('state', '=', 'active');
    if (input.gpus) q = q.where('gpu_uuid', 'in', input.gpus.length ? input.gpus : ['']);
    const active = await q.execute();
    if (active.length === 0) throw conflict('NOT_BONDED', `No active bond on ${input.gpus ? 'those GPUs' : `node ${nodeId}`}.`);
    await trx.updateTable('bonds').set({ state: 'unbonding', unbond_at: unbondAt, updated_at: now }).where('id', 'in', active.map((b) => b.id)).where('state', '=', 'active').execute();
    await trx.updateTable('gpus').set({ bonded: 0 }).where('node_id', '=', nodeId).where('uuid', 'in', active.map((b) => b.gpu_uuid)).execute();
  });
  return nodeBond(ctx, nodeId, actor);
}

/** Sweep: return bonds whose cooldown ended and whose GPU no lease holds (ledger row + outbox payout, in one transaction). */
export async function returnDueBonds(ctx: CoordinatorContext, now: number): Promise<string[]> {
  const due = await ctx.db.selectFrom('bonds').select(['id']).where('state', '=', 'unbonding').where('unbond_at', '<=', now).limit(500).execute();
  const payouts: string[] = [];
  for (const { id } of due) {
    const payout = await ctx.engine.writeTransaction(async (trx) => {
      const bond = await trx.selectFrom('bonds').selectAll().where('id', '=', id).executeTakeFirst();
      if (!bond || bond.state !== 'unbonding') return null;
      await ctx.engine.lockAccount(trx, `bond:${bond.node_id}`);
      // Nothing goes back while a lease runs on the GPU: its bond still answers for a node fault.
      const leased = await trx.selectFrom('gpus').select('lease_id').where('node_id', '=', bond.node_id).where('uuid', '=', bond.gpu_uuid).executeTakeFirst();
      if (leased?.lease_id) return null;
      const taken = await trx.updateTable('bonds').set({ state: 'returned', updated_at: now }).where('id', '=', id).where('state', '=', 'unbonding').executeTakeFirst();
      if (Number(taken.numUpdatedRows) !== 1) return null;
      const balance = Number(bond.balance);
      if (balance <= 0) return null;
      if (bond.payment_signature && ctx.payouts) {
        const payoutId = newId('unbond');
        // The outbox writes the matching ledger row (bond_return, −balance) with the payout.
        await ctx.payouts.enqueue(trx, { id: payoutId, kind: 'unbond', owner: bond.owner, amount: balance, leaseId: null });
        await trx.updateTable('bonds').set({ payout_id: payoutId }).where('id', '=', id).execute();
        return payoutId;
      }
      // An unpaid dev bond goes back on the ledger only.
      await trx.insertInto('ledger').values({ kind: 'bond_return', account: bond.owner, amount: -balance, lease_id: null, claim_id: bond.id, created_at: now }).execute();
      return null;
    });
    if (payout) payouts.push(payout);
  }
  for (const payout of payouts) ctx.payouts?.settleLater(payout);
  return payouts;
}

/**
 * Slash, once per `trigger`, `bps` of the balance of the node's active or unbonding bonds on `gpuUuids` (all its GPUs
 * when omitted), inside the caller's transaction. The renter (if any) gets `renterShareBps` of it through the payout
 * outbox; the rest stays with the network. Returns the renter's payout id to settle after commit.
 */
export async function slashInTransaction(
  ctx: CoordinatorContext,
  trx: Db,
  input: { trigger: string; nodeId: string; bps: number; gpuUuids?: string[]; renter?: string | null; leaseId?: string | null },
): Promise<string | null> {
  const settings = bondSettings(ctx);
  const now = ctx.options.now();
  await ctx.engine.lockAccount(trx, `bond:${input.nodeId}`);
  const existing = await trx.selectFrom('slashes').select('trigger').where('trigger', '=', input.trigger).executeTakeFirst();
  if (existing) return null;
  let q = trx.selectFrom('bonds').selectAll().where('node_id', '=', input.nodeId).where('state', 'in', ['active', 'unbonding']);
  if (input.gpuUuids) q = q.where('gpu_uuid', 'in', input.gpuUuids.length ? input.gpuUuids : ['']);
  const bonds = await q.execute();
  let total = 0;
  let paidTotal = 0;
  for (const bond of bonds) {
    const cut = Math.floor((Number(bond.balance) * input.bps) / 10_000);
    if (cut <= 0) continue;
    await trx.updateTable('bonds').set({ balance: Number(bond.balance) - cut, updated_at: now }).where('id', '=', bond.id).execute();
    total += cut;
    if (bond.payment_signature) paidTotal += cut;
  }
  if (total === 0) return null;
  const owner = bonds[0]!.owner;
  // Only tokens that arrived on chain go back out on chain; the renter's share comes out of those.
  const renterAmount = input.renter ? Math.floor((paidTotal * settings.renterShareBps) / 10_000) : 0;
  const payoutId = renterAmount > 0 && ctx.payouts ? newId('slash') : null;
  try {
    await trx.insertInto('slashes').values({ trigger: input.trigger, node_id: input.nodeId, owner, amount: total, renter: input.renter ?? null, renter_amount: renterAmount, network_amount: total - renterAmount, payout_id: payoutId, created_at: now }).execute();
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict('ALREADY_SLASHED', `Slash ${input.trigger} happened already.`);
    throw error;
  }
  await trx.insertInto('ledger').values({ kind: 'bond_slash', account: owner, amount: -total, lease_id: input.leaseId ?? null, claim_id: input.trigger, created_at: now }).execute();
  await trx.insertInto('ledger').values({ kind: 'slash_fee', account: ctx.options.treasuryAccount, amount: total - renterAmount, lease_id: input.leaseId ?? null, claim_id: input.trigger, created_at: now }).execute();
  if (renterAmount > 0) {
    await trx.insertInto('ledger').values({ kind: 'slash_award', account: input.renter!, amount: renterAmount, lease_id: input.leaseId ?? null, claim_id: input.trigger, created_at: now }).execute();
    // The outbox writes slash_payout (−renterAmount) on the renter's account with the payout.
    if (payoutId) await ctx.payouts!.enqueue(trx, { id: payoutId, kind: 'slash', owner: input.renter!, amount: renterAmount, leaseId: input.leaseId ?? null });
  }
  return payoutId;
}

/** The slashes taken from a node (for `provide why` and tests). */
export async function nodeSlashes(db: Db, nodeId: string) {
  return db.selectFrom('slashes').selectAll().where('node_id', '=', nodeId).orderBy('created_at', 'desc').limit(50).execute();
}

/** A lease that ends by node fault: slash the bonds of the GPUs it held, once per lease; the renter gets a share. */
export async function slashForNodeFault(ctx: CoordinatorContext, trx: Db, lease: { id: string; renter: string }): Promise<string | null> {
  const held = await trx.selectFrom('lease_allocations').select(['node_id', 'gpu_uuid']).where('lease_id', '=', lease.id).execute();
  const byNode = new Map<string, string[]>();
  for (const a of held) byNode.set(a.node_id, [...(byNode.get(a.node_id) ?? []), a.gpu_uuid]);
  let payout: string | null = null;
  for (const [nodeId, gpuUuids] of byNode) {
    const id = await slashInTransaction(ctx, trx, { trigger: `lease:${lease.id}:${nodeId}`, nodeId, bps: bondSettings(ctx).nodeFaultBps, gpuUuids, renter: lease.renter, leaseId: lease.id });
    // Multi-node leases failing on several nodes at once are rare; the first payout is settled at once, the others by the retry pass.
    payout ??= id;
  }
  return payout;
}
