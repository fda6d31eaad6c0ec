// Row types of the coordinator database (one schema for SQLite and PostgreSQL). Times are unix ms; money is integer base units.
import type { Generated } from 'kysely';
import { nodeIsolationSchema, type NodeIsolation } from '../api/schemas/nodes.js';

export interface NodesTable {
  id: string;
  owner: string;
  machine_id: string;
  specs: string;
  region: string;
  price_per_gpu_hour: number;
  simulated: number;
  verified: number;
  status: string;
  /** Lower-cased GPU models, '|'-joined, for cheap model prefilters. */
  models: string;
  max_vram_mb: number;
  free_gpus: number;
  total_gpus: number;
  reliability: number;
  leases_completed: number;
  leases_failed: number;
  telemetry: string | null;
  /** 1 while the agent drains: no new placements, running leases continue. */
  draining: number;
  public_host: string | null;
  /** JSON of the NodeIsolation the node reported at registration; null: it reported none. */
  isolation: string | null;
  /** The last GPU verification the agent reported (JSON of the API's Verification). */
  verification: string | null;
  last_heartbeat_at: number | null;
  created_at: number;
  updated_at: number;
  /** Until when the last passed challenge counts (unix ms); null: never passed, or failed since. */
  verified_until: number | null;
  /** When the next random challenge is due (set after each challenge). */
  next_challenge_at: number | null;
  /** When the next liveness probe of its running leases is due. */
  next_probe_at?: number | null;
}

/** A coordinator-issued GPU challenge (src/coordinator/challenges.ts): issued → committed → passed | failed | expired. */
export interface ChallengesTable {
  id: string;
  node_id: string;
  /** registration | gpus-changed | random | owner */
  reason: string;
  state: string;
  /** JSON GpuChallenge[] (src/domain/challenge.ts), seeds included: never sent to anyone but the node. */
  spec: string;
  /** JSON {uuid: root} once committed. */
  roots: string | null;
  /** JSON {uuid: entry[]} drawn after the commitment. */
  samples: string | null;
  /** JSON {uuid: word index[]}: the VRAM words queried at the commitment (migration 0240; absent before it). */
  vram_queries?: string | null;
  detail: string | null;
  issued_at: number;
  deadline_at: number;
  committed_at: number | null;
  answer_deadline_at: number | null;
  finished_at: number | null;
}

export interface GpusTable {
  id: string;
  node_id: string;
  idx: number;
  uuid: string;
  model: string;
  vram_mb: number;
  lease_id: string | null;
  /** The quote holding this GPU until held_until (quotes.ts): no other quote or lease takes it meanwhile. */
  held_by: Generated<string | null>;
  held_until: Generated<number | null>;
  /** 1 while an active bond covers this GPU (src/coordinator/bonds.ts). */
  bonded: Generated<number>;
}

/** A liveness probe of a node's running leases (src/coordinator/evidence.ts): issued → passed | failed | expired. */
export interface ProbesTable {
  id: string;
  node_id: string;
  /** JSON lease ids probed. */
  leases: string;
  state: string;
  detail: string | null;
  issued_at: number;
  deadline_at: number;
  answered_at: number | null;
}

/** A token bond for one GPU: active → unbonding (cooldown) → returned; slashes lower `balance`. */
export interface BondsTable {
  id: string;
  node_id: string;
  gpu_uuid: string;
  owner: string;
  amount: number;
  balance: number;
  state: string;
  payment_signature: string | null;
  unbond_at: number | null;
  /** The payout that returned the balance. */
  payout_id: string | null;
  created_at: number;
  updated_at: number;
}

/** One slash per trigger (`lease:<id>`, `challenge:<id>`): the primary key makes it happen once. */
export interface SlashesTable {
  trigger: string;
  node_id: string;
  owner: string;
  amount: number;
  renter: string | null;
  renter_amount: number;
  network_amount: number;
  payout_id: string | null;
  created_at: number;
}

export interface QuotesTable {
  id: string;
  renter: string;
  request: string;
  allocations: string;
  gpus: number;
  model: string | null;
  hours: number;
  price_per_gpu_hour: number;
  per_hour: number;
  total: number;
  fee: number;
  expires_at: number;
  lease_id: string | null;
  created_at: number;
  /** When its renter released it (quotes.ts releaseQuote): it holds nothing and can no longer be paid for (migration 0310). */
  released_at?: number | null;
}

export interface LeasesTable {
  id: string;
  renter: string;
  quote_id: string;
  state: string;
  gpus: number;
  model: string | null;
  hours: number;
  price_per_gpu_hour: number;
  per_hour: number;
  total_paid: number;
  refund: number;
  image: string;
  command: string | null;
  env: string;
  ports: string;
  /** 1: the container runs with a read-only root filesystem (and a writable /tmp tmpfs). */
  read_only_root: number;
  /** "UID:GID" of the non-root user the container runs as; null: the image's default user. */
  run_as: string | null;
  /** 0: the container gets no route out (the renter's --no-egress). */
  egress: number;
  payment_signature: string | null;
  failure_reason: string | null;
  created_at: number;
  /** When the paid time started counting (scheduling). */
  starts_at: number;
  started_at: number | null;
  ends_at: number;
  stopped_at: number | null;
  /** The workload container's exit code once it ended on its own (batch jobs); null otherwise. */
  exit_code: number | null;
  /** Minutes of running time already written to the ledger. */
  accrued_minutes: number;
  /** Set while a liveness probe of this lease failed and no later one passed: nothing accrues from then. */
  unproven_from?: number | null;
  /** Running minutes that paid the provider nothing (frozen by failed probes) and were refunded to the renter. */
  frozen_minutes?: number;
  /** What those minutes refunded (base units, the sum of the `frozen_refund` ledger rows). */
  frozen_refund?: number;
}

export interface LeaseAllocationsTable {
  lease_id: string;
  node_id: string;
  gpu_id: string;
  gpu_uuid: string;
  price_per_gpu_hour: number;
  active: number;
}

export interface LedgerTable {
  id: Generated<number>;
  kind: string;
  account: string;
  amount: number;
  lease_id: string | null;
  claim_id: string | null;
  created_at: number;
}

/** The payout outbox: reward claims and lease refunds (kind), each paid by one stored, signed transfer. */
export interface ClaimsTable {
  id: string;
  kind: Generated<string>;
  /** The refunded lease (refunds only). */
  lease_id: string | null;
  owner: string;
  amount: number;
  state: string;
  signed_tx: string | null;
  signature: string | null;
  last_valid_block_height: number | null;
  error: string | null;
  created_at: number;
  updated_at: number;
}

/** One row per payment transaction ever accepted for checking: a signature and a reference (quote) pay once. */
export interface PaymentsTable {
  signature: string;
  reference: string;
  renter: string;
  amount: number;
  state: string;
  created_at: number;
}

export interface IdempotencyTable {
  pubkey: string;
  key: string;
  method: string;
  path: string;
  status: number;
  response: string | null;
  created_at: number;
  /** While status is 0 (in progress): the process handling the request and until when its claim holds. */
  owner: Generated<string | null>;
  expires_at: Generated<number | null>;
}

export interface NoncesTable {
  pubkey: string;
  nonce: string;
  expires_at: number;
}

/** Heartbeat sessions (src/coordinator/heartbeat-sessions.ts): the HMAC key lives here so any replica can check MACs. */
export interface NodeSessionsTable {
  id: string;
  node_id: string;
  owner: string;
  /** 32-byte HMAC key, base64. */
  key: string;
  expires_at: number;
  created_at: number;
  /** Every sequence number at or below this may have been accepted by some coordinator process (heartbeat-sessions.ts). */
  seq_mark: Generated<number>;
}

export interface LeaseLogsTable {
  id: Generated<number>;
  lease_id: string;
  stream: string;
  /** Text of rows written before output was stored as bytes; '' since. */
  data: string;
  /** The exact bytes the container wrote (null in rows written before). */
  bytes: Buffer | null;
  created_at: number;
}

export interface Database {
  nodes: NodesTable;
  gpus: GpusTable;
  quotes: QuotesTable;
  leases: LeasesTable;
  lease_allocations: LeaseAllocationsTable;
  ledger: LedgerTable;
  claims: ClaimsTable;
  payments: PaymentsTable;
  idempotency: IdempotencyTable;
  nonces: NoncesTable;
  lease_logs: LeaseLogsTable;
  node_sessions: NodeSessionsTable;
  challenges: ChallengesTable;
  probes: ProbesTable;
  bonds: BondsTable;
  slashes: SlashesTable;
}

/** Reads the leases.run_as column ("UID:GID"). */
export function parseRunAs(value: string): { uid: number; gid: number } {
  const [uid, gid] = value.split(':').map(Number);
  return { uid: uid!, gid: gid! };
}

/** Reads the nodes.isolation column: the NodeIsolation a node reported, or null (none, or unreadable). */
export function parseIsolation(value: string | null): NodeIsolation | null {
  if (!value) return null;
  try {
    const parsed = nodeIsolationSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
