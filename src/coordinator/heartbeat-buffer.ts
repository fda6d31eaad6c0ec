// Heartbeat liveness/telemetry and request nonces held in memory and written in one batch (flush) rather than per request.
import { sql } from 'kysely';
import type { HeartbeatInput } from '../api/schemas.js';
import type { Engine } from './db.js';

export class HeartbeatBuffer {
  /** Latest heartbeat per node until the next flush; telemetry is serialised then, once per node rather than per heartbeat. */
  private heartbeatBuffer = new Map<string, { at: number; telemetry: HeartbeatInput['gpus'] }>();
  private nonceBuffer: Array<{ pubkey: string; nonce: string; expires_at: number }> = [];

  constructor(private readonly engine: Engine) {}

  record(nodeId: string, at: number, telemetry: HeartbeatInput['gpus']): void {
    this.heartbeatBuffer.set(nodeId, { at, telemetry });
  }

  /** Remember a nonce; persisted in the next flush (heartbeats) or at once (everything else). Returns false on replay. */
  async useNonce(pubkey: string, nonce: string, expiresAt: number, persistNow: boolean): Promise<boolean> {
    if (persistNow) {
      const result = await this.engine.db.insertInto('nonces').values({ pubkey, nonce, expires_at: expiresAt }).onConflict((oc) => oc.doNothing()).executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
    }
    this.nonceBuffer.push({ pubkey, nonce, expires_at: expiresAt });
    return true;
  }

  /** Write buffered heartbeats (last seen, telemetry) and nonces in one batch. */
  async flush(): Promise<number> {
    const beats = this.heartbeatBuffer;
    const nonces = this.nonceBuffer;
    if (beats.size === 0 && nonces.length === 0) return 0;
    this.heartbeatBuffer = new Map();
    this.nonceBuffer = [];
    const entries = [...beats.entries()];
    if (this.engine.kind === 'postgres') {
      for (let i = 0; i < entries.length; i += 1000) {
        const chunk = entries.slice(i, i + 1000);
        const values = sql.join(chunk.map(([id, b]) => sql`(${id}::text, ${b.at}::bigint, ${JSON.stringify(b.telemetry)}::text)`));
        await sql`update nodes as n set last_heartbeat_at = greatest(coalesce(n.last_heartbeat_at, 0), v.at), telemetry = v.t, status = 'online' from (values ${values}) as v(id, at, t) where n.id = v.id`.execute(this.engine.db);
      }
      for (let i = 0; i < nonces.length; i += 1000) {
        await this.engine.db.insertInto('nonces').values(nonces.slice(i, i + 1000)).onConflict((oc) => oc.doNothing()).execute();
      }
    } else {
      // One UPDATE … FROM (VALUES …) per 300 nodes: compiling and preparing a statement per node cost more than running it.
      await this.engine.writeTransaction(async (trx) => {
        for (let i = 0; i < entries.length; i += 300) {
          const values = sql.join(entries.slice(i, i + 300).map(([id, b]) => sql`(${id}, ${b.at}, ${JSON.stringify(b.telemetry)})`));
          await sql`update nodes set last_heartbeat_at = max(coalesce(nodes.last_heartbeat_at, 0), v.column2), telemetry = v.column3, status = 'online' from (values ${values}) as v where nodes.id = v.column1`.execute(trx);
        }
        for (let i = 0; i < nonces.length; i += 200) {
          await trx.insertInto('nonces').values(nonces.slice(i, i + 200)).onConflict((oc) => oc.doNothing()).execute();
        }
      });
    }
    return entries.length;
  }
}
