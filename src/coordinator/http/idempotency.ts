// Idempotency-Key for signed POSTs, shared by replicas through the database. A record is claimed by the process serving
// the request (owner) until an expiry it renews while it works; a process that dies leaves a claim that lapses, and the
// next retry with the same key takes it over and finishes the request (or reports what the dead one had already done).
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { Db } from '../db.js';
import { errorBody, HttpError } from '../http-error.js';

export interface IdempotencyOptions {
  db: Db;
  now: () => number;
  /** How long a claim holds without renewal (renewed every third of it while the request runs). */
  claimMs: number;
}

export interface IdempotentRequest {
  actor: string;
  key: string;
  method: string;
  path: string;
  /** Run the request. */
  run: () => Promise<unknown>;
  /**
   * After a takeover: what the dead owner may already have done since `since` (when the first attempt arrived), as
   * this request's answer (undefined: nothing, run it).
   * Without it the request simply runs again, which the route must tolerate.
   */
  resume?: (since: number) => Promise<unknown>;
}

export class IdempotencyRecords {
  /** This process, as the owner of the claims it makes. */
  readonly owner = `p_${randomUUID()}`;
  private readonly renewals = new Set<NodeJS.Timeout>();

  constructor(private readonly options: IdempotencyOptions) {}

  async handle(request: IdempotentRequest, reply: FastifyReply): Promise<unknown> {
    const { db, now, claimMs } = this.options;
    const { actor, key, method, path } = request;
    if (key.length > 200) throw new HttpError(400, 'BAD_REQUEST', 'Idempotency-Key must be at most 200 characters.');
    const mine = () => db.updateTable('idempotency').where('pubkey', '=', actor).where('key', '=', key).where('owner', '=', this.owner).where('status', '=', 0);
    const inserted = await db
      .insertInto('idempotency')
      .values({ pubkey: actor, key, method, path, status: 0, response: null, created_at: now(), owner: this.owner, expires_at: now() + claimMs })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    let takeover: { since: number } | undefined;
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== 1) {
      const row = await db.selectFrom('idempotency').selectAll().where('pubkey', '=', actor).where('key', '=', key).executeTakeFirst();
      if (row && (row.method !== method || row.path !== path)) throw new HttpError(422, 'IDEMPOTENCY_KEY_REUSED', `This Idempotency-Key was used for ${row.method} ${row.path}.`);
      if (row && row.status !== 0) {
        reply.header('idempotent-replay', 'true');
        return reply.code(row.status).send(JSON.parse(row.response ?? 'null'));
      }
      const expiresAt = row?.expires_at == null ? 0 : Number(row.expires_at);
      if (!row || expiresAt > now() || !(await this.takeOver(actor, key, row.owner, expiresAt))) {
        const seconds = Math.max(1, Math.ceil((expiresAt - now()) / 1000));
        reply.header('retry-after', String(seconds));
        throw new HttpError(409, 'IN_PROGRESS', 'A request with this Idempotency-Key is still being processed.', `Retry in ${seconds} s with the same key.`);
      }
      takeover = { since: Number(row.created_at) };
    }
    const renewal = setInterval(() => {
      mine().set({ expires_at: now() + claimMs }).execute().catch(() => {});
    }, Math.max(10, Math.floor(claimMs / 3)));
    renewal.unref();
    this.renewals.add(renewal);
    try {
      const resumed = takeover && request.resume ? await request.resume(takeover.since) : undefined;
      const result = resumed ?? (await request.run());
      await mine().set({ status: 200, response: JSON.stringify(result), owner: null, expires_at: null }).execute();
      return result;
    } catch (error) {
      if (error instanceof HttpError && error.status < 500 && error.status !== 429) {
        await mine().set({ status: error.status, response: JSON.stringify(errorBody(error)), owner: null, expires_at: null }).execute();
      } else {
        // The outcome is unknown (a bug, the database, a dependency): the next retry runs it again.
        await db.deleteFrom('idempotency').where('pubkey', '=', actor).where('key', '=', key).where('owner', '=', this.owner).where('status', '=', 0).execute();
      }
      throw error;
    } finally {
      clearInterval(renewal);
      this.renewals.delete(renewal);
    }
  }

  /** Claim a lapsed record; false when another process claimed it first. */
  private async takeOver(actor: string, key: string, previousOwner: string | null, previousExpiry: number): Promise<boolean> {
    const { db, now, claimMs } = this.options;
    let update = db.updateTable('idempotency').set({ owner: this.owner, expires_at: now() + claimMs }).where('pubkey', '=', actor).where('key', '=', key).where('status', '=', 0);
    update = previousOwner === null ? update.where('owner', 'is', null) : update.where('owner', '=', previousOwner);
    update = previousExpiry === 0 ? update.where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '<=', 0)])) : update.where('expires_at', '=', previousExpiry);
    const result = await update.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Stop renewing claims (the process is going away; what it still runs lapses and is taken over). */
  close(): void {
    for (const renewal of this.renewals) clearInterval(renewal);
    this.renewals.clear();
  }
}
