// Heartbeat liveness/telemetry and request nonces held in memory and written in one batch (flush) rather than per request.
import type { HeartbeatInput } from '../api/schemas.js';
import type { Engine, HeartbeatRow } from './db.js';

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
    const rows: HeartbeatRow[] = [];
    for (const [id, b] of beats) rows.push({ id, at: b.at, telemetry: JSON.stringify(b.telemetry) });
    await this.engine.writeHeartbeats(rows, nonces);
    return rows.length;
  }
}
