// Heartbeat liveness/telemetry held in memory and written in one batch (flush) rather than per request.
import type { HeartbeatInput } from '../api/schemas/nodes.js';
import type { Engine, HeartbeatRow } from './db.js';

export class HeartbeatBuffer {
  /** Latest heartbeat per node until the next flush; telemetry is serialised then, once per node rather than per heartbeat. */
  private heartbeatBuffer = new Map<string, { at: number; telemetry: HeartbeatInput['gpus'] }>();

  constructor(private readonly engine: Engine) {}

  record(nodeId: string, at: number, telemetry: HeartbeatInput['gpus']): void {
    this.heartbeatBuffer.set(nodeId, { at, telemetry });
  }

  /**
   * Burn a request nonce in the database before the request is served (never only in memory: a restarted process or
   * another replica must refuse it too). Returns false on replay.
   */
  async useNonce(pubkey: string, nonce: string, expiresAt: number): Promise<boolean> {
    const result = await this.engine.db.insertInto('nonces').values({ pubkey, nonce, expires_at: expiresAt }).onConflict((oc) => oc.doNothing()).executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /** Write buffered heartbeats (last seen, telemetry) in one batch. */
  async flush(): Promise<number> {
    const beats = this.heartbeatBuffer;
    if (beats.size === 0) return 0;
    this.heartbeatBuffer = new Map();
    const rows: HeartbeatRow[] = [];
    for (const [id, b] of beats) rows.push({ id, at: b.at, telemetry: JSON.stringify(b.telemetry) });
    await this.engine.writeHeartbeats(rows);
    return rows.length;
  }
}
