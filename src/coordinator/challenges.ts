// Coordinator-issued GPU challenges (src/domain/challenge.ts): issue at registration, after a GPU change and at random
// times while no GPU is leased; take the commitment before the deadline, draw the samples only then, check the openings.
// A node is `verified` only through a passed challenge, until it ages out; nothing the node says about itself counts.
import { randomBytes, randomFillSync } from 'node:crypto';
import type { ChallengeAnswer, ChallengeCommit, ChallengeOffer, ChallengeResult, ChallengeSamples } from '../api/schemas/provider-trust.js';
import { checkOpenings, sampleEntries, type GpuChallenge } from '../domain/challenge.js';
import { validParams } from '../domain/challenge-params.js';
import { challengeDeadlineMs, sizeChallenge } from '../domain/challenge-sizing.js';
import { checkVramAnswers, sampleVramQueries, validVramParams } from '../domain/vram.js';
import { iso, newId, type CoordinatorContext } from './context.js';
import type { Db } from './db.js';
import { bondSettings, slashInTransaction } from './bonds.js';
import { conflict, HttpError, notFound } from './http-error.js';
import { nodeFor } from './nodes.js';
import type { ChallengesTable } from './tables.js';

export interface ChallengeSettings {
  /** Fixed time on top of the model's expected compute time (network, container start). */
  allowanceMs: number;
  /** Time to send the openings once the samples are drawn (lookups only). */
  answerWindowMs: number;
  /** How long a pass counts. */
  validityMs: number;
  /** Random challenges per node per day, on average (only while no GPU is leased). */
  perDay: number;
  /** Tests only: shrinks the work of GPU challenges (never the rate a model is held to). */
  workScale?: number;
  /** Tests only: shrinks the VRAM table of real GPUs. */
  vramScale?: number;
  /**
   * Time from the commitment to the answer when the challenge has a VRAM round: the queried words must come from memory
   * that is still filled, so the window is short (a lookup takes microseconds; the openings' recomputation fits too).
   */
  vramWindowMs: number;
}

export const DEFAULT_CHALLENGE_SETTINGS: ChallengeSettings = { allowanceMs: 5_000, answerWindowMs: 10_000, validityMs: 24 * 3_600_000, perDay: 4, vramWindowMs: 3_000 };

const OPEN = ['issued', 'committed'] as const;

export function challengeSettings(ctx: CoordinatorContext): ChallengeSettings {
  return { ...DEFAULT_CHALLENGE_SETTINGS, ...ctx.options.challenges };
}

/**
 * Exponentially distributed gap: when the next random challenge is due (unpredictable to the node). After a failure the
 * mean gap is a quarter as long, so a node that was briefly unable to answer gets back sooner.
 */
function nextRandomAt(ctx: CoordinatorContext, now: number, passed: boolean): number {
  const meanMs = 86_400_000 / Math.max(0.001, challengeSettings(ctx).perDay) / (passed ? 1 : 4);
  const uniform = (randomBytes(4).readUInt32BE(0) + 1) / 2 ** 32;
  return now + Math.round(-Math.log(uniform) * meanMs);
}

/** Issue a challenge for every GPU of the node, unless one is open already; returns its id. */
export async function issueChallenge(ctx: CoordinatorContext, nodeId: string, reason: string): Promise<string> {
  const id = await ctx.engine.writeTransaction((trx) => insertChallenge(ctx, trx, nodeId, reason));
  // The challenge rides on the node's heartbeat replies (and wakes its long-poll).
  ctx.assignments.invalidate([nodeId]);
  return id;
}

/**
 * A random re-check, only while none of the node's GPUs is leased (null: a lease is there; the next one is drawn
 * again). The node row is locked first: a lease placed concurrently either commits before this looks at the GPUs, or
 * waits for this insert and then cancels it (cancelRandomChallenges, same lock).
 */
export async function issueRandomChallenge(ctx: CoordinatorContext, nodeId: string): Promise<string | null> {
  const now = ctx.options.now();
  const id = await ctx.engine.writeTransaction(async (trx) => {
    await ctx.engine.lockNodes(trx, [nodeId]);
    const leased = await trx.selectFrom('gpus').select('id').where('node_id', '=', nodeId).where('lease_id', 'is not', null).executeTakeFirst();
    if (leased) {
      await trx.updateTable('nodes').set({ next_challenge_at: nextRandomAt(ctx, now, true) }).where('id', '=', nodeId).execute();
      return null;
    }
    return insertChallenge(ctx, trx, nodeId, 'random');
  });
  if (id) ctx.assignments.invalidate([nodeId]);
  return id;
}

/**
 * A lease was placed on these nodes (inside the lease's transaction, after their rows were locked): their open random
 * challenges are cancelled — not failed, not counted — so a renter's GPUs never run a check. The verification the node
 * holds stays as it was; the next random challenge is drawn afresh. Registration and GPU-change challenges stay open:
 * without them the node is not verified at all. Returns the nodes whose challenge was cancelled.
 */
export async function cancelRandomChallenges(ctx: CoordinatorContext, trx: Db, nodeIds: readonly string[], leaseId: string): Promise<string[]> {
  if (nodeIds.length === 0) return [];
  const now = ctx.options.now();
  const open = await trx.selectFrom('challenges').select(['id', 'node_id']).where('node_id', 'in', [...nodeIds]).where('reason', '=', 'random').where('state', 'in', [...OPEN]).execute();
  for (const row of open) {
    const cancelled = await trx
      .updateTable('challenges')
      .set({ state: 'cancelled', detail: `lease ${leaseId} was placed on the node before the answer`, finished_at: now })
      .where('id', '=', row.id)
      .where('state', 'in', [...OPEN])
      .executeTakeFirst();
    if (Number(cancelled.numUpdatedRows) !== 1) continue;
    await trx.updateTable('nodes').set({ next_challenge_at: nextRandomAt(ctx, now, true) }).where('id', '=', row.node_id).execute();
  }
  return open.map((row) => row.node_id);
}

async function insertChallenge(ctx: CoordinatorContext, trx: Db, nodeId: string, reason: string): Promise<string> {
  const settings = challengeSettings(ctx);
  const now = ctx.options.now();
  const open = await trx.selectFrom('challenges').select('id').where('node_id', '=', nodeId).where('state', 'in', [...OPEN]).executeTakeFirst();
  if (open) return open.id;
  const node = await trx.selectFrom('nodes').select(['simulated']).where('id', '=', nodeId).executeTakeFirst();
  if (!node) throw notFound('Node', nodeId);
  const gpus = await trx.selectFrom('gpus').select(['uuid', 'model']).where('node_id', '=', nodeId).orderBy('idx').execute();
  const spec: GpuChallenge[] = gpus.map((g) => ({
    uuid: g.uuid,
    model: g.model,
    ...sizeChallenge(g.model, Boolean(node.simulated), { allowanceMs: settings.allowanceMs, workScale: settings.workScale, vramScale: settings.vramScale }),
    seed: randomBytes(16).toString('hex'),
  }));
  const challengeId = newId('chal');
  const deadlineAt = now + challengeDeadlineMs(spec, settings.allowanceMs);
  await trx
    .insertInto('challenges')
    .values({ id: challengeId, node_id: nodeId, reason, state: 'issued', spec: JSON.stringify(spec), roots: null, samples: null, vram_queries: null, detail: null, issued_at: now, deadline_at: deadlineAt, committed_at: null, answer_deadline_at: null, finished_at: null })
    .execute();
  return challengeId;
}

/** Open challenges per node, as the node receives them (seeds included: only the node's own replies carry them). */
export async function openChallenges(db: Db, nodeIds?: readonly string[]): Promise<Map<string, ChallengeOffer>> {
  let q = db.selectFrom('challenges').select(['id', 'node_id', 'spec', 'deadline_at']).where('state', '=', 'issued');
  if (nodeIds) q = q.where('node_id', 'in', nodeIds);
  const rows = await q.execute();
  const result = new Map<string, ChallengeOffer>();
  for (const row of rows) {
    const spec = JSON.parse(row.spec) as GpuChallenge[];
    result.set(row.node_id, { id: row.id, deadlineAt: iso(Number(row.deadline_at))!, gpus: spec });
  }
  return result;
}

async function challengeRow(ctx: CoordinatorContext, nodeId: string, challengeId: string) {
  const row = await ctx.db.selectFrom('challenges').selectAll().where('id', '=', challengeId).executeTakeFirst();
  if (!row || row.node_id !== nodeId) throw notFound('Challenge', challengeId);
  return row;
}

function throwIfCancelled(row: ChallengesTable): void {
  if (row.state === 'cancelled') throw conflict('CHALLENGE_CANCELLED', `Challenge ${row.id} was cancelled (${row.detail ?? 'a lease was placed'}); it does not count for or against the node.`, 'Nothing to do: the GPUs are leased now.');
}

/** The node's commitment (one Merkle root per GPU). The samples are drawn only now, so they cannot be known earlier. */
export async function commitChallenge(ctx: CoordinatorContext, nodeId: string, actor: string, challengeId: string, body: ChallengeCommit): Promise<ChallengeSamples> {
  await nodeFor(ctx, nodeId, actor);
  const row = await challengeRow(ctx, nodeId, challengeId);
  throwIfCancelled(row);
  if (row.state !== 'issued') throw conflict('CHALLENGE_NOT_OPEN', `Challenge ${challengeId} is ${row.state}; it takes one commitment.`);
  const now = ctx.options.now();
  if (now > Number(row.deadline_at)) {
    await finish(ctx, row, 'expired', `committed ${now - Number(row.issued_at)} ms after issue; the deadline was ${Number(row.deadline_at) - Number(row.issued_at)} ms`, now);
    return { state: 'expired', samples: {}, answerBy: null };
  }
  const spec = JSON.parse(row.spec) as GpuChallenge[];
  const uuids = Object.keys(body.roots);
  if (uuids.length !== spec.length || !spec.every((g) => body.roots[g.uuid] !== undefined)) {
    throw new HttpError(400, 'BAD_REQUEST', `Commit one root for each challenged GPU: ${spec.map((g) => g.uuid).join(', ')}.`);
  }
  const samples: Record<string, number[]> = {};
  for (const gpu of spec) samples[gpu.uuid] = sampleEntries(gpu.params, randomFillSync(new Uint32Array(2 * gpu.params.samples)));
  const vram = vramQueriesFor(spec);
  const settings = challengeSettings(ctx);
  const answerBy = now + (vram ? Math.min(settings.answerWindowMs, settings.vramWindowMs) : settings.answerWindowMs);
  const updated = await ctx.db
    .updateTable('challenges')
    .set({ state: 'committed', roots: JSON.stringify(body.roots), samples: JSON.stringify(samples), vram_queries: vram ? JSON.stringify(vram) : null, committed_at: now, answer_deadline_at: answerBy })
    .where('id', '=', challengeId)
    .where('state', '=', 'issued')
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) throw conflict('CHALLENGE_NOT_OPEN', `Challenge ${challengeId} was committed already.`);
  ctx.assignments.invalidate([nodeId]);
  return { state: 'committed', samples, answerBy: iso(answerBy), ...(vram ? { vram, vramAnswerBy: iso(answerBy) } : {}) };
}

/** The VRAM words to query per GPU, drawn now (after the commitment); undefined when no GPU has a VRAM round. */
function vramQueriesFor(spec: readonly GpuChallenge[]): Record<string, number[]> | undefined {
  const withVram = spec.filter((gpu) => gpu.vram && validVramParams(gpu.vram));
  if (withVram.length === 0) return undefined;
  return Object.fromEntries(withVram.map((gpu) => [gpu.uuid, sampleVramQueries(gpu.vram!, randomFillSync(new Uint32Array(2 * gpu.vram!.queries)))]));
}

/** The openings for the drawn samples: checked against the roots and recomputed from the seeds. */
export async function answerChallenge(ctx: CoordinatorContext, nodeId: string, actor: string, challengeId: string, body: ChallengeAnswer): Promise<ChallengeResult> {
  await nodeFor(ctx, nodeId, actor);
  const row = await challengeRow(ctx, nodeId, challengeId);
  throwIfCancelled(row);
  if (row.state !== 'committed') throw conflict('CHALLENGE_NOT_COMMITTED', `Challenge ${challengeId} is ${row.state}; commit the roots first.`);
  const now = ctx.options.now();
  if (now > Number(row.answer_deadline_at)) {
    const vramRound = Boolean(row.vram_queries);
    await finish(ctx, row, 'expired', vramRound ? `the answer arrived ${now - Number(row.committed_at)} ms after the commitment; the VRAM window is ${Number(row.answer_deadline_at) - Number(row.committed_at)} ms` : `the openings arrived after the answer window`, now);
    return toResult(await challengeRow(ctx, nodeId, challengeId));
  }
  const spec = JSON.parse(row.spec) as GpuChallenge[];
  const roots = JSON.parse(row.roots!) as Record<string, string>;
  const samples = JSON.parse(row.samples!) as Record<string, number[]>;
  const vramQueries = row.vram_queries ? (JSON.parse(row.vram_queries) as Record<string, number[]>) : {};
  let failure: string | null = null;
  let missingVram: string | null = null;
  for (const gpu of spec) {
    const openings = body.openings[gpu.uuid];
    let result = !openings ? { ok: false as const, reason: 'no openings' } : !validParams(gpu.params) ? { ok: false as const, reason: 'invalid parameters' } : checkOpenings(gpu.seed, gpu.params, roots[gpu.uuid]!, samples[gpu.uuid]!, openings);
    const queries = vramQueries[gpu.uuid];
    if (result.ok && queries && gpu.vram) {
      // No words at all is a missing answer (an agent from before the VRAM round), not a wrong one: no slash.
      if (body.vram?.[gpu.uuid] === undefined) missingVram ??= `GPU ${gpu.uuid}: no VRAM words were sent (update the agent)`;
      else result = checkVramAnswers(gpu.seed, gpu.vram, queries, body.vram[gpu.uuid]);
    }
    if (!result.ok) {
      failure = `GPU ${gpu.uuid}: ${result.reason}`;
      break;
    }
  }
  await finish(ctx, row, failure ? 'failed' : missingVram ? 'expired' : 'passed', failure ?? missingVram, now);
  return toResult(await challengeRow(ctx, nodeId, challengeId));
}

/** Close a challenge (compare-and-set on its open state) and set the node's verification from it. */
async function finish(ctx: CoordinatorContext, row: ChallengesTable, state: 'passed' | 'failed' | 'expired', detail: string | null, now: number): Promise<boolean> {
  const done = await ctx.engine.writeTransaction(async (trx) => {
    const updated = await trx.updateTable('challenges').set({ state, detail, finished_at: now }).where('id', '=', row.id).where('state', '=', row.state).executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) return false;
    const passed = state === 'passed';
    // A wrong answer costs part of the bond (to the network); a late or missing one only loses the verification.
    if (state === 'failed') await slashInTransaction(ctx, trx, { trigger: `challenge:${row.id}`, nodeId: row.node_id, bps: bondSettings(ctx).failedChallengeBps });
    await trx
      .updateTable('nodes')
      .set({ verified: passed ? 1 : 0, verified_until: passed ? now + challengeSettings(ctx).validityMs : null, next_challenge_at: nextRandomAt(ctx, now, passed) })
      .where('id', '=', row.node_id)
      .execute();
    return true;
  });
  if (done) ctx.assignments.invalidate([row.node_id]);
  return done;
}

/** Sweep: close challenges whose deadline passed unanswered, and issue the random ones that are due. */
export async function sweepChallenges(ctx: CoordinatorContext, now: number): Promise<{ expired: number; issued: number }> {
  const late = await ctx.db
    .selectFrom('challenges')
    .selectAll()
    .where((eb) => eb.or([eb.and([eb('state', '=', 'issued'), eb('deadline_at', '<', now)]), eb.and([eb('state', '=', 'committed'), eb('answer_deadline_at', '<', now)])]))
    .limit(1000)
    .execute();
  let expired = 0;
  for (const row of late) if (await finish(ctx, row, 'expired', row.state === 'issued' ? 'no commitment before the deadline' : 'no openings before the answer window closed', now)) expired++;
  // Random re-checks only while no GPU is leased and the node is up; a node with an open challenge is skipped.
  const due = await ctx.db
    .selectFrom('nodes')
    .select('id')
    .where('status', '=', 'online')
    .where('draining', '=', 0)
    .where('next_challenge_at', '<=', now)
    .whereRef('free_gpus', '=', 'total_gpus')
    .limit(200)
    .execute();
  let issued = 0;
  for (const node of due) {
    const claimed = await ctx.db.updateTable('nodes').set({ next_challenge_at: null }).where('id', '=', node.id).where('next_challenge_at', '<=', now).executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) continue; // another replica took it
    if (await issueRandomChallenge(ctx, node.id)) issued++;
  }
  return { expired, issued };
}

/** The node's latest challenges, newest first. */
export async function listChallenges(ctx: CoordinatorContext, nodeId: string, limit = 10): Promise<ChallengeResult[]> {
  const rows = await ctx.db.selectFrom('challenges').selectAll().where('node_id', '=', nodeId).orderBy('issued_at', 'desc').orderBy('id').limit(limit).execute();
  return rows.map(toResult);
}

function toResult(row: ChallengesTable): ChallengeResult {
  const spec = JSON.parse(row.spec) as GpuChallenge[];
  return {
    id: row.id,
    reason: row.reason,
    state: row.state as ChallengeResult['state'],
    kind: spec.some((g) => g.kind === 'gpu') ? 'gpu' : 'cpu-stand-in',
    gpus: spec.map((g) => g.uuid),
    detail: row.detail,
    issuedAt: iso(Number(row.issued_at))!,
    deadlineAt: iso(Number(row.deadline_at))!,
    computeMs: row.committed_at === null ? null : Number(row.committed_at) - Number(row.issued_at),
    allowedMs: Number(row.deadline_at) - Number(row.issued_at),
    finishedAt: iso(row.finished_at === null ? null : Number(row.finished_at)),
  };
}
