// What the coordinator's parts share: options, the store, the payout outbox, the in-memory node and assignment state.
import { randomBytes } from 'node:crypto';
import type { AssignmentBoard } from './assignments.js';
import type { BondSettings } from './bonds.js';
import type { ChallengeSettings } from './challenges.js';
import type { EvidenceSettings } from './evidence.js';
import type { Db, Engine } from './db.js';
import type { HeartbeatBuffer } from './heartbeat-buffer.js';
import type { PaymentVerifier, PayoutSender } from './hooks.js';
import type { PayoutOutbox } from './payouts.js';

export interface ServiceOptions {
  dev: boolean;
  feeBps: number;
  /** Ledger account that receives the network fee. */
  treasuryAccount: string;
  heartbeatGraceMs: number;
  quoteTtlMs: number;
  /** GPUs one renter's live quotes may hold at once (src/coordinator/quotes.ts has the default). */
  quoteHoldsPerRenter?: number;
  /** How stale a cached node assignment list may be (other replicas' changes show up after this). */
  assignmentCacheMs: number;
  paymentVerifier?: PaymentVerifier;
  payoutSender?: PayoutSender;
  onError?: (error: unknown, where: string) => void;
  now: () => number;
  /** GPU challenge timing (src/coordinator/challenges.ts); defaults there. */
  challenges?: Partial<ChallengeSettings>;
  /** GPU bonds (src/coordinator/bonds.ts); defaults there. */
  bonds?: Partial<BondSettings>;
  /** Liveness probes of running leases (src/coordinator/evidence.ts); defaults there. */
  evidence?: Partial<EvidenceSettings>;
}

export interface CachedNode {
  owner: string;
  status: string;
  draining: boolean;
  simulated: boolean;
  /** JSON of the last verification stored, so a repeated report costs no write. */
  verification: string | null;
}

/** Built once by CoordinatorService and passed to every part; the parts keep no state of their own. */
export interface CoordinatorContext {
  readonly engine: Engine;
  readonly db: Db;
  readonly options: ServiceOptions;
  /** Claims and refunds on chain; absent when no payout sender is configured. */
  readonly payouts: PayoutOutbox | undefined;
  /** Per-node facts that node requests check, read from the store once (see nodeFor). */
  readonly nodeCache: Map<string, CachedNode>;
  readonly assignments: AssignmentBoard;
  readonly heartbeats: HeartbeatBuffer;
}

export const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
