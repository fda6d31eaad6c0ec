// Server side of heartbeat sessions (src/api/heartbeat-session.ts): open after an ed25519-signed request by the node's
// owner, then authenticate each heartbeat by HMAC, timestamp window and a strictly increasing sequence number.
import { randomBytes } from 'node:crypto';
import { createSessionKeyPair, deriveSessionKey, macMatches, SESSION_HEADERS, sessionMacer, type SessionMacer } from '../api/heartbeat-session.js';

export interface StoredSession {
  id: string;
  nodeId: string;
  owner: string;
  key: Buffer;
  expiresAt: number;
}

/** Where sessions are kept so that a restarted coordinator, or another replica, recognises them. */
export interface SessionPersistence {
  save(session: StoredSession): Promise<void>;
  load(id: string): Promise<StoredSession | undefined>;
}

interface LiveSession extends StoredSession {
  lastSeq: number;
  /** Bit i set: sequence number lastSeq - i was seen. Requests sent close together (a heartbeat and a long-poll over two
   * connections) may arrive out of order; a window accepts each once instead of rejecting the later-arriving lower one. */
  window: number;
  /** The MAC function with this key's HMAC pads precomputed. */
  mac: SessionMacer;
  /** The success result, built once per session rather than per heartbeat. */
  result: Readonly<{ ok: true; owner: string; nodeId: string }>;
}

const REPLAY_WINDOW = 32;

export type SessionAuthResult = Readonly<{ ok: true; owner: string; nodeId: string }> | { ok: false; code: 'SESSION_UNKNOWN' | 'SESSION_EXPIRED' | 'UNAUTHORIZED' | 'CLOCK_SKEW' | 'REPLAYED'; message: string };

export class HeartbeatSessions {
  private readonly live = new Map<string, LiveSession>();

  constructor(
    private readonly options: { ttlMs: number; maxSkewMs: number; now: () => number; persistence?: SessionPersistence },
  ) {}

  async open(nodeId: string, owner: string, peerPublicKey: string): Promise<{ sessionId: string; publicKey: string; expiresAt: number }> {
    const id = `hs_${randomBytes(16).toString('hex')}`;
    const ours = createSessionKeyPair();
    const key = deriveSessionKey(ours.privateKey, peerPublicKey, { sessionId: id, nodeId });
    const session: LiveSession = { id, nodeId, owner, key, expiresAt: this.options.now() + this.options.ttlMs, lastSeq: 0, window: 0, mac: sessionMacer(key), result: Object.freeze({ ok: true as const, owner, nodeId }) };
    await this.options.persistence?.save(session);
    this.remember(session);
    return { sessionId: id, publicKey: ours.publicKey, expiresAt: session.expiresAt };
  }

  /** Whether the request carries session headers at all (otherwise the route falls back to ed25519 signatures). */
  static present(headers: Record<string, string | string[] | undefined>): boolean {
    return typeof headers[SESSION_HEADERS.session] === 'string';
  }

  async authenticate(method: string, path: string, nodeId: string, headers: Record<string, string | string[] | undefined>, body: string): Promise<SessionAuthResult> {
    return this.check(method, path, nodeId, headers, body);
  }

  /** As authenticate, but without a promise when the session is in memory (the heartbeat hot path). */
  check(method: string, path: string, nodeId: string, headers: Record<string, string | string[] | undefined>, body: string): SessionAuthResult | Promise<SessionAuthResult> {
    const sessionId = headers[SESSION_HEADERS.session] as string;
    const seqText = headers[SESSION_HEADERS.seq];
    const timestamp = headers[SESSION_HEADERS.timestamp];
    const mac = headers[SESSION_HEADERS.mac];
    if (typeof seqText !== 'string' || typeof timestamp !== 'string' || typeof mac !== 'string' || !/^\d{1,15}$/.test(seqText) || !/^\d{1,16}$/.test(timestamp)) {
      return { ok: false, code: 'UNAUTHORIZED', message: 'Session requests need x-iocli-seq, x-iocli-timestamp and x-iocli-mac.' };
    }
    const session = this.live.get(sessionId);
    if (session || !this.options.persistence || !/^hs_[0-9a-f]{32}$/.test(sessionId)) return this.verify(session, sessionId, method, path, nodeId, timestamp, seqText, mac, body);
    return this.options.persistence.load(sessionId).then((stored) => {
      const loaded = this.live.get(sessionId) ?? (stored ? this.remember({ ...stored, lastSeq: 0, window: 0, mac: sessionMacer(stored.key), result: Object.freeze({ ok: true as const, owner: stored.owner, nodeId: stored.nodeId }) }) : undefined);
      return this.verify(loaded, sessionId, method, path, nodeId, timestamp, seqText, mac, body);
    });
  }

  private verify(session: LiveSession | undefined, sessionId: string, method: string, path: string, nodeId: string, timestamp: string, seqText: string, mac: string, body: string): SessionAuthResult {
    const now = this.options.now();
    if (!session || session.nodeId !== nodeId) return { ok: false, code: 'SESSION_UNKNOWN', message: 'Unknown heartbeat session; open a new one.' };
    if (session.expiresAt <= now) {
      this.live.delete(sessionId);
      return { ok: false, code: 'SESSION_EXPIRED', message: 'The heartbeat session expired; open a new one.' };
    }
    if (Math.abs(now - Number(timestamp)) > this.options.maxSkewMs) {
      return { ok: false, code: 'CLOCK_SKEW', message: `Request timestamp is ${Math.round((now - Number(timestamp)) / 1000)} s off the server clock; check the system clock.` };
    }
    if (!macMatches(session.mac(method, path, timestamp, seqText, body), mac)) {
      return { ok: false, code: 'UNAUTHORIZED', message: 'Heartbeat MAC does not match the session.' };
    }
    const seq = Number(seqText);
    if (seq > session.lastSeq) {
      const shift = seq - session.lastSeq;
      session.window = shift >= REPLAY_WINDOW ? 1 : ((session.window << shift) | 1) >>> 0;
      session.lastSeq = seq;
    } else {
      const back = session.lastSeq - seq;
      if (seq === 0 || back >= REPLAY_WINDOW || ((session.window >>> back) & 1) === 1) {
        return { ok: false, code: 'REPLAYED', message: 'This heartbeat sequence number was already used (replay).' };
      }
      session.window = (session.window | (1 << back)) >>> 0;
    }
    return session.result;
  }

  private remember(session: LiveSession): LiveSession {
    if (this.live.size > 200_000) {
      const now = this.options.now();
      for (const [id, s] of this.live) if (s.expiresAt <= now) this.live.delete(id);
    }
    this.live.set(session.id, session);
    return session;
  }
}
