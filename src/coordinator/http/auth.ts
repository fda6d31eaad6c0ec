// Who is calling: an ed25519 request signature (with its nonce burned), a heartbeat session MAC (node routes), or a
// replica forwarding a relay stream it already checked. Each failure becomes one HttpError here, and every verified
// identity takes a token from its own rate-limit bucket (forged or unsigned requests never reach it).
import type { KeyObject } from 'node:crypto';
import { verifySignedRequest } from '../../api/signing.js';
import { HeartbeatSessions, type SessionAuthResult } from '../heartbeat-sessions.js';
import { HttpError } from '../http-error.js';
import type { TokenBuckets } from './rate-limit.js';

/** How a route is authenticated (the route table's `auth`). */
export type AuthKind = 'public' | 'signed' | 'node' | 'stream';

/** What authentication reads from a request (a fastify request fits). */
export interface SignedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody?: string;
}

export interface AuthenticatorOptions {
  now: () => number;
  maxSkewMs: number;
  sessions: HeartbeatSessions;
  /** Burns a nonce in the database; false when it was already used (on any replica, before any restart). */
  useNonce(publicKey: string, nonce: string, expiresAt: number): Promise<boolean>;
  /** Per verified identity; absent when rate limiting is off. */
  identityLimit?: TokenBuckets;
  /**
   * A relay stream another replica forwards (it checked the renter's signature and burned the nonce): the renter it
   * vouches for, or undefined when the request is not forwarded. Throws 401 for a bad forwarding secret.
   */
  forwardedRenter?(headers: SignedRequest['headers']): string | undefined;
}

const replayed = () => new HttpError(401, 'REPLAYED', 'This request nonce was already used (replay).');

export class Authenticator {
  private readonly keyCache = new Map<string, KeyObject>();
  /** Nonces seen by this process, so most replays are refused without a database round trip. */
  private readonly recentNonces = new Map<string, number>();

  constructor(private readonly options: AuthenticatorOptions) {}

  /**
   * Verify the signature and burn the nonce; returns the caller's public key. The nonce is written to the database before
   * the request is served (node routes included), so a captured request replays neither after a restart nor on another replica.
   */
  async signature(request: SignedRequest): Promise<string> {
    const { now, maxSkewMs } = this.options;
    const result = verifySignedRequest(request.method, request.url, request.headers, request.rawBody ?? '', { now: now(), maxSkewMs, keyCache: this.keyCache });
    if (!result.ok) throw new HttpError(401, result.reason === 'skew' ? 'CLOCK_SKEW' : 'UNAUTHORIZED', result.message);
    this.limitIdentity(result.publicKey);
    const nonceKey = `${result.publicKey}:${result.nonce}`;
    if (this.recentNonces.has(nonceKey)) throw replayed();
    const expiresAt = result.timestamp + maxSkewMs + 1_000;
    if (this.recentNonces.size > 500_000) this.pruneNonces();
    this.recentNonces.set(nonceKey, expiresAt);
    if (!(await this.options.useNonce(result.publicKey, result.nonce, expiresAt))) throw replayed();
    return result.publicKey;
  }

  /**
   * A node's own routes: a session MAC when the request carries one, else a signature. No promise when the session is
   * in memory (the heartbeat hot path).
   */
  node(request: SignedRequest, nodeId: string): string | Promise<string> {
    if (!HeartbeatSessions.present(request.headers)) return this.signature(request);
    const result = this.options.sessions.check(request.method, request.url, nodeId, request.headers, request.rawBody ?? '');
    return result instanceof Promise ? result.then((r) => this.sessionOwner(r)) : this.sessionOwner(result);
  }

  /** A renter's relay stream: forwarded by another replica, or signed. */
  async stream(request: SignedRequest): Promise<string> {
    return this.options.forwardedRenter?.(request.headers) ?? this.signature(request);
  }

  /** Forget nonces whose requests would be refused for their timestamp anyway. */
  pruneNonces(): void {
    const t = this.options.now();
    for (const [key, expiry] of this.recentNonces) if (expiry < t) this.recentNonces.delete(key);
  }

  /** The one mapping of session failures to HTTP errors, with what the agent should do next. */
  private sessionOwner(result: SessionAuthResult): string {
    if (result.ok) {
      this.limitIdentity(result.owner);
      return result.owner;
    }
    const hint = result.code === 'SESSION_UNKNOWN' || result.code === 'SESSION_EXPIRED' ? 'Open a new session (POST /v1/nodes/:id/sessions).' : result.code === 'SEQ_BEHIND' ? 'Send the next request with x-iocli-seq = details.nextSeq.' : undefined;
    throw new HttpError(401, result.code, result.message, hint, result.code === 'SEQ_BEHIND' ? { nextSeq: result.nextSeq } : undefined);
  }

  private limitIdentity(identity: string): void {
    if (this.options.identityLimit && !this.options.identityLimit.take(identity)) throw new HttpError(429, 'RATE_LIMITED', 'Too many requests for this wallet; slow down.', 'Retry after a second.');
  }
}
