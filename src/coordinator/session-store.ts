// Heartbeat sessions in the coordinator database (table node_sessions), so a restarted coordinator or another replica
// recognises a session another process opened, and no process accepts a sequence number another one may have accepted.
import type { SessionPersistence, StoredSession } from './heartbeat-sessions.js';
import type { Db } from './db.js';

export function databaseSessionPersistence(db: Db): SessionPersistence & { prune(now: number): Promise<void> } {
  return {
    async save(session: StoredSession) {
      await db
        .insertInto('node_sessions')
        .values({ id: session.id, node_id: session.nodeId, owner: session.owner, key: session.key.toString('base64'), expires_at: session.expiresAt, created_at: Date.now(), seq_mark: session.seqMark })
        .execute();
    },
    async load(id: string) {
      const row = await db.selectFrom('node_sessions').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? { id: row.id, nodeId: row.node_id, owner: row.owner, key: Buffer.from(row.key, 'base64'), expiresAt: Number(row.expires_at), seqMark: Number(row.seq_mark) } : undefined;
    },
    async moveMark(id: string, from: number, to: number) {
      const result = await db.updateTable('node_sessions').set({ seq_mark: to }).where('id', '=', id).where('seq_mark', '=', from).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async readMark(id: string) {
      const row = await db.selectFrom('node_sessions').select('seq_mark').where('id', '=', id).executeTakeFirst();
      return row ? Number(row.seq_mark) : undefined;
    },
    async prune(now: number) {
      await db.deleteFrom('node_sessions').where('expires_at', '<', now).execute();
    },
  };
}
