// The payout outbox (reward claims and lease refunds): a stored, signed transfer per payout, settled from what the chain says.
//
// Exactly once: a payout row carries at most one live signed transfer. It is replaced (re-signed) only when the chain
// says the stored one can never land (its blockhash expired unseen), and only by the caller whose compare-and-set on
// the old signature wins; everyone else re-reads. Re-sending the same bytes is harmless (one signature lands once).
import type { Selectable } from 'kysely';
import type { Db, Engine } from './db.js';
import type { PayoutKind, PayoutSender, PayoutStatus, PreparedPayout } from './hooks.js';
import type { ClaimsTable } from './tables.js';

type ClaimRow = Selectable<ClaimsTable>;

export interface PayoutOutboxOptions {
  sender: PayoutSender;
  now: () => number;
  onError: (error: unknown, where: string) => void;
}

/** Ledger kind that moved the money into a payout row: reversed (re-queued) when its transfer fails on chain. */
export const payoutLedgerKind = (kind: string) => ({ refund: 'refund_payout', unbond: 'bond_return', slash: 'slash_payout' })[kind] ?? 'claim';

export class PayoutOutbox {
  private readonly db: Db;
  private readonly background = new Set<Promise<void>>();

  constructor(
    private readonly engine: Engine,
    private readonly options: PayoutOutboxOptions,
  ) {
    this.db = engine.db;
  }

  /** Insert an unsigned payout row inside the caller's transaction (with the ledger row that funds it); settle() signs it. */
  async enqueue(trx: Db, payout: { id: string; kind: PayoutKind; owner: string; amount: number; leaseId: string | null }): Promise<void> {
    const now = this.options.now();
    await trx
      .insertInto('claims')
      .values({ id: payout.id, kind: payout.kind, lease_id: payout.leaseId, owner: payout.owner, amount: payout.amount, state: 'pending', signed_tx: null, signature: null, last_valid_block_height: null, error: null, created_at: now, updated_at: now })
      .execute();
    await trx.insertInto('ledger').values({ kind: payoutLedgerKind(payout.kind), account: payout.owner, amount: -payout.amount, lease_id: payout.leaseId, claim_id: payout.id, created_at: now }).execute();
  }

  /** Settle in the background (heartbeat- or sweep-ended leases); failures leave the row for the retry pass. */
  settleLater(id: string): void {
    const run = this.settle(id)
      .catch((error) => this.options.onError(error, `payout ${id}`))
      .finally(() => this.background.delete(run));
    this.background.add(run);
  }

  /** Wait for background settlements (tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  /**
   * Drive one payout to paid (or failed, re-queued): sign it if unsigned, ask the chain about a stored transfer,
   * re-sign only an expired one, send and wait. `fresh` skips the status read for a transfer signed a moment ago.
   */
  async settle(id: string, { fresh = false }: { fresh?: boolean } = {}): Promise<void> {
    const { sender } = this.options;
    for (let attempt = 0; attempt < 4; attempt++) {
      const row = await this.db.selectFrom('claims').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row || row.state === 'paid' || row.state === 'failed') return;
      let prepared = storedTransfer(row);
      const justSigned = fresh && attempt === 0 && prepared !== null;
      let status: PayoutStatus = prepared ? (justSigned ? 'pending' : await sender.status(prepared)) : 'expired';
      if (status === 'confirmed') return void (await this.markPaid(id));
      if (status === 'failed') return void (await this.markFailed(row, 'The transfer landed with an error.'));
      if (status === 'expired') {
        prepared = await this.resign(row);
        if (!prepared) continue; // another settler replaced it first
        status = 'pending';
      }
      await this.db.updateTable('claims').set({ state: 'sent', updated_at: this.options.now() }).where('id', '=', id).where('state', '=', 'pending').execute();
      let outcome: PayoutStatus;
      try {
        outcome = await sender.send(prepared!);
      } catch (error) {
        await this.db.updateTable('claims').set({ error: (error as Error).message, updated_at: this.options.now() }).where('id', '=', id).execute();
        return; // stays 'sent'; the retry pass (or a restart) settles it from the chain
      }
      if (outcome === 'confirmed') return void (await this.markPaid(id));
      if (outcome === 'failed') return void (await this.markFailed(row, 'The transfer landed with an error.'));
      // expired: loop, the next round re-signs
    }
  }

  /** Every unfinished payout (on start), or those untouched for `olderThanMs` (periodic retry). */
  async settleOpen(olderThanMs?: number): Promise<number> {
    let q = this.db.selectFrom('claims').select('id').where('state', 'in', ['pending', 'sent']);
    if (olderThanMs !== undefined) q = q.where('updated_at', '<', this.options.now() - olderThanMs);
    const open = await q.orderBy('created_at').limit(500).execute();
    for (const { id } of open) {
      try {
        await this.settle(id);
      } catch (error) {
        this.options.onError(error, `payout ${id}`);
      }
    }
    return open.length;
  }

  /** Sign a (new) transfer and store it, compare-and-set on the signature it replaces. Null when another settler won. */
  private async resign(row: ClaimRow): Promise<PreparedPayout | null> {
    const next = await this.options.sender.prepare({ claimId: row.id, owner: row.owner, amount: Number(row.amount), ...(row.kind !== 'claim' ? { kind: row.kind as PayoutKind } : {}) });
    let q = this.db
      .updateTable('claims')
      .set({ state: 'pending', signed_tx: next.signedTransaction, signature: next.signature, last_valid_block_height: next.lastValidBlockHeight, updated_at: this.options.now() })
      .where('id', '=', row.id)
      .where('state', 'in', ['pending', 'sent']);
    q = row.signature === null ? q.where('signature', 'is', null) : q.where('signature', '=', row.signature);
    const result = await q.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1 ? next : null;
  }

  private async markPaid(id: string): Promise<void> {
    await this.db.updateTable('claims').set({ state: 'paid', error: null, updated_at: this.options.now() }).where('id', '=', id).where('state', '!=', 'paid').execute();
  }

  /** A transfer that landed with an error moved nothing: the payout fails and its amount goes back to the balance. */
  private async markFailed(row: ClaimRow, reason: string): Promise<void> {
    await this.engine.writeTransaction(async (trx) => {
      const updated = await trx.updateTable('claims').set({ state: 'failed', error: reason, updated_at: this.options.now() }).where('id', '=', row.id).where('state', 'in', ['pending', 'sent']).executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) return;
      await trx.insertInto('ledger').values({ kind: payoutLedgerKind(row.kind), account: row.owner, amount: Number(row.amount), lease_id: row.lease_id, claim_id: row.id, created_at: this.options.now() }).execute();
    });
  }
}

function storedTransfer(row: ClaimRow): PreparedPayout | null {
  if (!row.signed_tx || !row.signature) return null;
  return { signedTransaction: row.signed_tx, signature: row.signature, lastValidBlockHeight: Number(row.last_valid_block_height ?? 0) };
}
