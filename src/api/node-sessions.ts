// The client's heartbeat sessions, one per node id: opened by a signed handshake, renewed before they expire, opened
// again when the server forgot one, and skipped ahead when the server says the sequence number is behind.
import { ApiError } from './api-error.js';
import { createSessionKeyPair, deriveSessionKey, HeartbeatSessionClient } from './heartbeat-session.js';
import type { HeartbeatSession } from './schemas/nodes.js';

const RENEW_BEFORE_MS = 60_000;

export type OpenSession = (nodeId: string, publicKey: string, signal?: AbortSignal) => Promise<HeartbeatSession>;

export class NodeSessions {
  // null means this coordinator has no sessions (every request is signed instead).
  private readonly sessions = new Map<string, Promise<HeartbeatSessionClient | null>>();

  constructor(private readonly open: OpenSession) {}

  /**
   * Send a node request over its session (`session` null: signed instead). The server forgetting or expiring the session
   * costs one new handshake and a retry; a sequence number behind the server's costs a retry.
   */
  async send<T>(nodeId: string, send: (session: HeartbeatSessionClient | null) => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const session = await this.sessionFor(nodeId, signal);
      if (!session) return send(null);
      try {
        return await send(session);
      } catch (error) {
        const code = error instanceof ApiError && error.status === 401 ? error.code : undefined;
        // A restarted coordinator, or another replica, accepts only numbers above what any process may have accepted.
        const nextSeq = code === 'SEQ_BEHIND' && error instanceof ApiError ? error.details?.nextSeq : undefined;
        if (attempt < 2 && typeof nextSeq === 'number') {
          session.skipTo(nextSeq);
          continue;
        }
        if (attempt > 1 || (code !== 'SESSION_UNKNOWN' && code !== 'SESSION_EXPIRED')) throw error;
        const pending = this.sessions.get(nodeId);
        if (pending && (await pending.catch(() => undefined)) === session) this.sessions.delete(nodeId);
      }
    }
  }

  private async handshake(nodeId: string, signal?: AbortSignal): Promise<HeartbeatSessionClient | null> {
    const ours = createSessionKeyPair();
    try {
      const opened = await this.open(nodeId, ours.publicKey, signal);
      return new HeartbeatSessionClient(opened.sessionId, deriveSessionKey(ours.privateKey, opened.publicKey, { sessionId: opened.sessionId, nodeId }), opened.expiresAt);
    } catch (error) {
      // An older coordinator without the route: fall back to signing every request.
      if (error instanceof ApiError && error.status === 404 && error.code === 'NOT_FOUND' && error.message.startsWith('No route')) return null;
      throw error;
    }
  }

  private async sessionFor(nodeId: string, signal?: AbortSignal): Promise<HeartbeatSessionClient | null> {
    const pending = this.sessions.get(nodeId);
    if (pending) {
      const current = await pending.catch(() => undefined);
      if (current === null) return null;
      if (current && current.expiresAt - Date.now() > RENEW_BEFORE_MS) return current;
      // Someone else already replaced it while we waited.
      if (this.sessions.get(nodeId) !== pending) return this.sessionFor(nodeId, signal);
    }
    const next = this.handshake(nodeId, signal);
    this.sessions.set(nodeId, next);
    next.catch(() => {
      if (this.sessions.get(nodeId) === next) this.sessions.delete(nodeId);
    });
    return next;
  }
}
