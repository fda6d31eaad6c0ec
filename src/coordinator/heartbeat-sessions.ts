// Server side of heartbeat sessions (src/api/heartbeat-session.ts): open after an ed25519-signed request by the node's
// owner, then authenticate each heartbeat by HMAC, timestamp window and a strictly increasing sequence number.
//
// Replay protection across restarts and replicas without a write per heartbeat: the database keeps, per session, a
// mark at or above every sequence number any process may have accepted. A process accepts only numbers inside a range
// it reserved by moving the mark up with a compare-and-set (a block of SEQ_BLOCK numbers at a time), so ranges of
// different processes never overlap and a restarted process starts above everything accepted before it. An agent whose
// next number lies at or below the mark (its coordinator restarted, or it moved to another replica) is told the next
// usable number (SEQ_BEHIND) and jumps there: one extra request per move. While two processes keep taking a session's
// numbers from each other (a load balancer spreading one node's requests), each reserves one number per request.
import { randomBytes } from 'node:crypto';
import { createSessionKeyPair, deriveSessionKey, macMatches, SESSION_HEADERS, sessionMacer, type SessionMacer } from '../api/heartbeat-session.js';

export interface StoredSession {
  id: string;
  nodeId: string;
  owner: string;
  key: Buffer;
  expiresAt: number;
  /** Every sequence number at or below this may already have been accepted by some process. */
  seqMark: number;
}

/** Where sessions are kept so that a restarted coordinator, or another replica, recognises them. */
export interface SessionPersistence {
  save(session: StoredSession): Promise<void>;
  load(id: string): Promise<StoredSession | undefined>;
  /** Move the session's mark from `from` to `to` if it is still `from` (compare-and-set); false when another process moved it. */
  moveMark(id: string, from: number, to: number): Promise<boolean>;
  /** The session's current mark; undefined when the session is gone. */
  readMark(id: string): Promise<number | undefined>;
}

interface LiveSession extends StoredSession {
  /** This process may accept sequence numbers in (floor, seqMark] (seqMark: the top of the range it reserved). */
  floor: number;
  lastSeq: number;
  /** Bit i set: sequence number lastSeq - i was seen. Requests sent close together (a heartbeat and a long-poll over two
   * connections) may arrive out of order; a window accepts each once instead of rejecting the later-arriving lower one. */
  window: number;
  /** The MAC function with this key's HMAC pads precomputed. */
  mac: SessionMacer;
  /** The success result, built once per session rather than per heartbeat. */
  result: Readonly<{ ok: true; owner: string; nodeId: string }>;
  /** A reservation in flight (one at a time per session and process). */
  reserving?: Promise<SessionAuthResult | undefined>;
  /** Until then another process is taking this session's numbers too: reserve one number at a time. */
  sharedUntil: number;
}

const REPLAY_WINDOW = 32;
/** Sequence numbers reserved per database write while one process has a session to itself. */
export const SEQ_BLOCK = 1024;
const SHARED_MS = 60_000;

export type SessionAuthResult =
  | Readonly<{ ok: true; owner: string; nodeId: string }>
  | { ok: false; code: 'SESSION_UNKNOWN' | 'SESSION_EXPIRED' | 'UNAUTHORIZED' | 'CLOCK_SKEW' | 'REPLAYED'; message: string }
  | { ok: false; code: 'SEQ_BEHIND'; message: string; nextSeq: number };

export class HeartbeatSessions {
  private readonly live = new Map<string, LiveSession>();

  constructor(
    private readonly options: { ttlMs: number; maxSkewMs: number; now: () => number; persistence?: SessionPersistence },
  ) {}

  async open(nodeId: string, owner: string, peerPublicKey: string): Promise<{ sessionId: string; publicKey: string; expiresAt: number }> {
    const id = `hs_${randomBytes(16).toString('hex')}`;
    const ours = createSessionKeyPair();
    const key = deriveSessionKey(ours.privateKey, peerPublicKey, { sessionId: id, nodeId });
    const session = this.toLive({ id, nodeId, owner, key, expiresAt: this.options.now() + this.options.ttlMs, seqMark: this.options.persistence ? SEQ_BLOCK : Number.MAX_SAFE_INTEGER }, 0);
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
      // Opened elsewhere or before a restart: everything up to the stored mark may have been accepted already.
      const loaded = this.live.get(sessionId) ?? (stored ? this.remember(this.toLive(stored, stored.seqMark)) : undefined);
      return this.verify(loaded, sessionId, method, path, nodeId, timestamp, seqText, mac, body);
    });
  }

  private toLive(stored: StoredSession, floor: number): LiveSession {
    return { ...stored, floor, lastSeq: floor, window: 0, mac: sessionMacer(stored.key), result: Object.freeze({ ok: true as const, owner: stored.owner, nodeId: stored.nodeId }), sharedUntil: 0 };
  }

  private verify(session: LiveSession | undefined, sessionId: string, method: string, path: string, nodeId: string, timestamp: string, seqText: string, mac: string, body: string): SessionAuthResult | Promise<SessionAuthResult> {
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
    return this.accept(session, Number(seqText));
  }

  /** Accept `seq` once: inside this process's reserved range at once, above it after reserving more. */
  private accept(session: LiveSession, seq: number): SessionAuthResult | Promise<SessionAuthResult> {
    if (seq > session.seqMark) return this.reserve(session, seq).then((gone) => gone ?? this.accept(session, seq));
    if (seq <= session.floor) {
      return { ok: false, code: 'SEQ_BEHIND', message: 'This heartbeat sequence number may already have been used (replay, or the coordinator restarted); continue from nextSeq.', nextSeq: Math.max(session.lastSeq, session.floor) + 1 };
    }
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

  /** Reserve numbers up to at least `seq` in the database; when another process moved the mark, start above it. */
  private reserve(session: LiveSession, seq: number): Promise<SessionAuthResult | undefined> {
    const persistence = this.options.persistence;
    if (!persistence) {
      session.seqMark = Number.MAX_SAFE_INTEGER;
      return Promise.resolve(undefined);
    }
    if (session.reserving) return session.reserving;
    const run = async (): Promise<SessionAuthResult | undefined> => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const shared = session.sharedUntil > this.options.now();
        const to = shared ? seq : seq - 1 + SEQ_BLOCK;
        if (await persistence.moveMark(session.id, session.seqMark, to)) {
          session.seqMark = to;
          return undefined;
        }
        const mark = await persistence.readMark(session.id);
        if (mark === undefined) {
          this.live.delete(session.id);
          return { ok: false, code: 'SESSION_UNKNOWN', message: 'Unknown heartbeat session; open a new one.' };
        }
        // Another process holds (old mark, mark]: this process's range restarts above it.
        session.sharedUntil = this.options.now() + SHARED_MS;
        session.floor = session.seqMark = session.lastSeq = mark;
        session.window = 0;
        if (seq <= mark) return undefined;
      }
      throw new Error(`heartbeat session ${session.id}: sequence reservation kept losing to other replicas`);
    };
    session.reserving = run().finally(() => {
      session.reserving = undefined;
    });
    return session.reserving;
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
