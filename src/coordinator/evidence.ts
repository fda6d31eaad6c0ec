// Evidence for paid time: at random times the coordinator probes a node's running leases. The replica holding the
// agent's relay link runs a command with a fresh nonce inside each lease's container (src/domain/probe-check.ts), the
// path a renter's `lease exec` takes, and checks the answer itself; without a relay link up, the probe fails as
// unreachable at its deadline. The probe also rides on the heartbeat reply: the agent's own "not running" fails it at
// once, but its word never passes it (except with `via: 'agent-report'`, the weaker check of a coordinator run without
// the relay). A failed probe freezes the lease's accrual at the probe's issue time; the minutes until a later probe
// passes (or the lease ends) are never paid to the provider and go back to the renter pro rata through the payout
// outbox (refundFrozenMinutes). README: threat model.
import { randomBytes } from 'node:crypto';
import { judgeProbeExec, probeCommand, type ProbeExecOutcome } from '../domain/probe-check.js';
import type { ProbeAnswer, ProbeOffer, ProbeResult } from '../api/schemas/provider-trust.js';
import { frozenRefund, startedMinutes, wholeMinutes } from '../domain/pricing.js';
import { iso, newId, type CoordinatorContext } from './context.js';
import type { Db } from './db.js';
import { conflict, notFound } from './http-error.js';
import { accrue } from './metering.js';
import { nodeFor } from './nodes.js';
import { queueRefund } from './payments.js';
import type { LeasesTable, ProbesTable } from './tables.js';

export interface EvidenceSettings {
  /** Mean gap between probes of a node with running leases (exponentially distributed). */
  meanIntervalMs: number;
  /** How long the agent has to answer. */
  deadlineMs: number;
  /**
   * relay (default): only an answer from inside the container, through the relay, passes a probe. agent-report: the
   * agent's report that the container runs passes it (a coordinator without the relay; proves far less).
   */
  via: 'relay' | 'agent-report';
}

export const DEFAULT_EVIDENCE_SETTINGS: EvidenceSettings = { meanIntervalMs: 15 * 60_000, deadlineMs: 30_000, via: 'relay' };

/** Runs a command in a lease's container through the relay (src/coordinator/relay.ts implements it). */
export interface LeaseExec {
  /** Nodes whose agents hold a relay link to this replica. */
  linkedNodes(): string[];
  exec(nodeId: string, leaseId: string, command: string[], timeoutMs: number): Promise<ProbeExecOutcome | null>;
}

export function evidenceSettings(ctx: CoordinatorContext): EvidenceSettings {
  return { ...DEFAULT_EVIDENCE_SETTINGS, ...ctx.options.evidence };
}

function nextProbeAt(ctx: CoordinatorContext, now: number): number {
  const uniform = (randomBytes(4).readUInt32BE(0) + 1) / 2 ** 32;
  return now + Math.round(-Math.log(uniform) * evidenceSettings(ctx).meanIntervalMs);
}

/** Open probes per node, as the node receives them. */
export async function openProbes(db: Db, nodeIds?: readonly string[]): Promise<Map<string, ProbeOffer>> {
  let q = db.selectFrom('probes').select(['id', 'node_id', 'leases', 'deadline_at']).where('state', '=', 'issued');
  if (nodeIds) q = q.where('node_id', 'in', nodeIds);
  const result = new Map<string, ProbeOffer>();
  for (const row of await q.execute()) result.set(row.node_id, { id: row.id, leaseIds: JSON.parse(row.leases) as string[], deadlineAt: iso(Number(row.deadline_at))! });
  return result;
}

/** Probe the node's running leases now (unless a probe is open); returns its id, or null when nothing runs. */
export async function issueProbe(ctx: CoordinatorContext, nodeId: string): Promise<string | null> {
  const now = ctx.options.now();
  const id = await ctx.engine.writeTransaction(async (trx) => {
    const open = await trx.selectFrom('probes').select('id').where('node_id', '=', nodeId).where('state', '=', 'issued').executeTakeFirst();
    if (open) return open.id;
    const running = await trx
      .selectFrom('lease_allocations as a')
      .innerJoin('leases as l', 'l.id', 'a.lease_id')
      .select('l.id')
      .distinct()
      .where('a.node_id', '=', nodeId)
      .where('a.active', '=', 1)
      .where('l.state', '=', 'running')
      .orderBy('l.id')
      .execute();
    if (running.length === 0) return null;
    const probeId = newId('probe');
    await trx
      .insertInto('probes')
      .values({ id: probeId, node_id: nodeId, leases: JSON.stringify(running.map((r) => r.id)), state: 'issued', detail: null, issued_at: now, deadline_at: now + evidenceSettings(ctx).deadlineMs, answered_at: null })
      .execute();
    return probeId;
  });
  if (id) ctx.assignments.invalidate([nodeId]);
  return id;
}

/**
 * The agent's answer: every probed lease must be reported running, with its container and start time. A lease it
 * reports not running fails the probe; a report that all run passes it only with `via: 'agent-report'` — otherwise the
 * probe stays open for the check through the relay.
 */
export async function answerProbe(ctx: CoordinatorContext, nodeId: string, actor: string, probeId: string, body: ProbeAnswer): Promise<ProbeResult> {
  await nodeFor(ctx, nodeId, actor);
  const row = await ctx.db.selectFrom('probes').selectAll().where('id', '=', probeId).executeTakeFirst();
  if (!row || row.node_id !== nodeId) throw notFound('Probe', probeId);
  if (row.state !== 'issued') throw conflict('PROBE_NOT_OPEN', `Probe ${probeId} is ${row.state}.`);
  const now = ctx.options.now();
  const leaseIds = JSON.parse(row.leases) as string[];
  let failure: string | null = now > Number(row.deadline_at) ? 'answered after the deadline' : null;
  for (const leaseId of leaseIds) {
    if (failure) break;
    const report = body.leases.find((l) => l.leaseId === leaseId);
    if (!report) failure = `lease ${leaseId} missing from the answer`;
    else if (!report.running || report.startedAt === null || report.containerId.length < 12) failure = `lease ${leaseId} is not running (${report.state ?? 'no state'})`;
  }
  if (failure || evidenceSettings(ctx).via === 'agent-report') await finishProbe(ctx, row, failure ? 'failed' : 'passed', failure, now);
  return toResult((await ctx.db.selectFrom('probes').selectAll().where('id', '=', probeId).executeTakeFirstOrThrow()));
}

/**
 * Close a probe (compare-and-set on 'issued'). Failed or expired: accrue what was proven up to the probe's issue, then
 * freeze the leases there. Passed: the frozen minutes are skipped (never paid to the provider, refunded to the renter)
 * and accrual resumes from now.
 */
async function finishProbe(ctx: CoordinatorContext, row: ProbesTable, state: 'passed' | 'failed' | 'expired', detail: string | null, now: number): Promise<boolean> {
  const leaseIds = JSON.parse(row.leases) as string[];
  const refunds: string[] = [];
  const done = await ctx.engine.writeTransaction(async (trx) => {
    refunds.length = 0;
    const updated = await trx.updateTable('probes').set({ state, detail, answered_at: state === 'expired' ? null : now }).where('id', '=', row.id).where('state', '=', 'issued').executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) return false;
    for (const leaseId of leaseIds) {
      await ctx.engine.lockLease(trx, leaseId);
      const lease = await trx.selectFrom('leases').selectAll().where('id', '=', leaseId).executeTakeFirst();
      if (!lease || lease.state !== 'running' || lease.started_at === null) continue;
      if (state === 'passed') {
        if (lease.unproven_from == null) continue;
        const resumeAt = Math.min(now, Number(lease.ends_at));
        const skipTo = Math.max(Number(lease.accrued_minutes), wholeMinutes(Number(lease.started_at), resumeAt));
        await trx.updateTable('leases').set({ unproven_from: null, accrued_minutes: skipTo }).where('id', '=', leaseId).execute();
        const refund = await refundFrozenMinutes(ctx, trx, lease, skipTo - Number(lease.accrued_minutes), now);
        if (refund) refunds.push(refund);
      } else if (lease.unproven_from == null) {
        await accrue(ctx, trx, lease, Number(row.issued_at));
        await trx.updateTable('leases').set({ unproven_from: Number(row.issued_at) }).where('id', '=', leaseId).execute();
      }
    }
    await trx.updateTable('nodes').set({ next_probe_at: nextProbeAt(ctx, now) }).where('id', '=', row.node_id).execute();
    return true;
  });
  for (const refund of refunds) ctx.payouts!.settleLater(refund);
  return done;
}

/**
 * Frozen minutes go back to the renter: `minutes` more of the lease's running time paid the provider nothing. In the
 * caller's transaction, with the lease locked and its row fresh: the lease's frozen count, a `frozen_refund` ledger row
 * and (a paid lease) a refund in the payout outbox move together, so each minute is refunded exactly once and a crash
 * leaves either all of it or none. Returns the payout to settle after the commit (null: nothing to send on chain).
 */
async function refundFrozenMinutes(ctx: CoordinatorContext, trx: Db, lease: LeasesTable, minutes: number, now: number): Promise<string | null> {
  if (minutes <= 0) return null;
  const before = Number(lease.frozen_minutes ?? 0);
  const amount = frozenRefund(Number(lease.per_hour), before, before + minutes);
  await trx
    .updateTable('leases')
    .set({ frozen_minutes: before + minutes, frozen_refund: Number(lease.frozen_refund ?? 0) + amount })
    .where('id', '=', lease.id)
    .execute();
  if (amount <= 0) return null;
  await trx.insertInto('ledger').values({ kind: 'frozen_refund', account: lease.renter, amount, lease_id: lease.id, claim_id: null, created_at: now }).execute();
  return queueRefund(ctx, trx, lease, amount, 'frozen');
}

/**
 * A lease ends while frozen (endLease, after its last accrual, lease locked): the running minutes from the freeze to its
 * end paid the provider nothing and are refunded. A node fault counts whole minutes, other ends the started minute too
 * (as accrue counts them for the provider).
 */
export async function refundFrozenTail(ctx: CoordinatorContext, trx: Db, leaseId: string, end: number, counted: 'whole' | 'started', now: number): Promise<string | null> {
  const lease = await trx.selectFrom('leases').selectAll().where('id', '=', leaseId).executeTakeFirst();
  if (!lease || lease.unproven_from == null || lease.started_at === null) return null;
  const countMinutes = counted === 'started' ? startedMinutes : wholeMinutes;
  const minutes = countMinutes(Number(lease.started_at), Math.min(end, Number(lease.ends_at))) - Number(lease.accrued_minutes);
  if (minutes <= 0) return null;
  await trx.updateTable('leases').set({ accrued_minutes: Number(lease.accrued_minutes) + minutes }).where('id', '=', leaseId).execute();
  return refundFrozenMinutes(ctx, trx, lease, minutes, now);
}

/** Sweep: expire unanswered probes; probe nodes with running leases whose random time has come. */
export async function sweepProbes(ctx: CoordinatorContext, now: number): Promise<{ expired: number; issued: number }> {
  const late = await ctx.db.selectFrom('probes').selectAll().where('state', '=', 'issued').where('deadline_at', '<', now).limit(1000).execute();
  let expired = 0;
  const unanswered = evidenceSettings(ctx).via === 'relay' ? 'unreachable: no answer from inside the container through the relay before the deadline (is the agent online, with its relay link up?)' : 'no answer before the deadline';
  for (const row of late) if (await finishProbe(ctx, row, 'expired', unanswered, now)) expired++;
  const busy = await ctx.db
    .selectFrom('nodes as n')
    .innerJoin('lease_allocations as a', 'a.node_id', 'n.id')
    .innerJoin('leases as l', 'l.id', 'a.lease_id')
    .select(['n.id', 'n.next_probe_at'])
    .distinct()
    .where('n.status', '=', 'online')
    .where('a.active', '=', 1)
    .where('l.state', '=', 'running')
    .limit(1000)
    .execute();
  let issued = 0;
  for (const node of busy) {
    if (node.next_probe_at == null) {
      // First sight of running leases: the first probe comes at a random time, like every later one.
      await ctx.db.updateTable('nodes').set({ next_probe_at: nextProbeAt(ctx, now) }).where('id', '=', node.id).where('next_probe_at', 'is', null).execute();
      continue;
    }
    if (Number(node.next_probe_at) > now) continue;
    const claimed = await ctx.db.updateTable('nodes').set({ next_probe_at: nextProbeAt(ctx, now) }).where('id', '=', node.id).where('next_probe_at', '=', Number(node.next_probe_at)).executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) continue; // another replica took it
    if (await issueProbe(ctx, node.id)) issued++;
  }
  return { expired, issued };
}

/**
 * Check the open probes of the nodes linked to this replica from inside their containers (relay mode), each probe once
 * at a time (`inFlight`, this replica's). Each lease gets its own nonce. A wrong or failed answer fails the probe; all
 * right passes it, unless the deadline passed meanwhile (the sweep expires it); an inconclusive one (the link dropped)
 * leaves it open for the next sweep. Returns how many probes were closed.
 */
export async function checkProbesThroughRelay(ctx: CoordinatorContext, relay: LeaseExec, inFlight: Set<string>): Promise<number> {
  if (evidenceSettings(ctx).via !== 'relay') return 0;
  const linked = relay.linkedNodes();
  if (linked.length === 0) return 0;
  const open: ProbesTable[] = [];
  for (let i = 0; i < linked.length; i += 500) {
    open.push(...(await ctx.db.selectFrom('probes').selectAll().where('state', '=', 'issued').where('node_id', 'in', linked.slice(i, i + 500)).execute()));
  }
  const checks = open
    .filter((row) => !inFlight.has(row.id))
    .map(async (row) => {
      inFlight.add(row.id);
      try {
        const deadline = Number(row.deadline_at);
        const timeoutMs = Math.max(1_000, deadline - ctx.options.now());
        const verdicts = await Promise.all(
          (JSON.parse(row.leases) as string[]).map(async (leaseId) => {
            const nonce = randomBytes(16).toString('hex');
            const outcome = await relay.exec(row.node_id, leaseId, probeCommand(nonce), timeoutMs);
            return { leaseId, ...judgeProbeExec(nonce, outcome) };
          }),
        );
        const failed = verdicts.find((v) => v.verdict === 'fail');
        const now = ctx.options.now();
        if (failed && 'detail' in failed) return finishProbe(ctx, row, 'failed', `lease ${failed.leaseId}: ${failed.detail}`, now);
        if (verdicts.some((v) => v.verdict === 'retry') || now > deadline) return false;
        const notes = verdicts.flatMap((v) => (v.verdict === 'pass' && v.note ? [`lease ${v.leaseId}: ${v.note}`] : []));
        return finishProbe(ctx, row, 'passed', notes.length > 0 ? notes.join('; ') : null, now);
      } finally {
        inFlight.delete(row.id);
      }
    });
  return (await Promise.all(checks)).filter(Boolean).length;
}

export async function listProbes(ctx: CoordinatorContext, nodeId: string, limit = 5): Promise<ProbeResult[]> {
  const rows = await ctx.db.selectFrom('probes').selectAll().where('node_id', '=', nodeId).orderBy('issued_at', 'desc').limit(limit).execute();
  return rows.map(toResult);
}

function toResult(row: ProbesTable): ProbeResult {
  return { id: row.id, state: row.state as ProbeResult['state'], leaseIds: JSON.parse(row.leases) as string[], detail: row.detail, issuedAt: iso(Number(row.issued_at))!, answeredAt: iso(row.answered_at === null ? null : Number(row.answered_at)) };
}
