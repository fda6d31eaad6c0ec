// Portable schema migrations (Kysely Migrator). The only engine difference is how auto-increment keys are spelled.
import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import { ExternalError } from '../errors.js';
import type { EngineKind } from './db.js';

function migrations(kind: EngineKind): Record<string, Migration> {
  const money = 'bigint' as const;
  const time = 'bigint' as const;
  return {
    '0001_initial': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('nodes')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('machine_id', 'text', (c) => c.notNull())
          .addColumn('specs', 'text', (c) => c.notNull())
          .addColumn('region', 'text', (c) => c.notNull())
          .addColumn('price_per_gpu_hour', money, (c) => c.notNull())
          .addColumn('simulated', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('verified', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('models', 'text', (c) => c.notNull())
          .addColumn('max_vram_mb', 'integer', (c) => c.notNull())
          .addColumn('free_gpus', 'integer', (c) => c.notNull())
          .addColumn('total_gpus', 'integer', (c) => c.notNull())
          .addColumn('reliability', 'real', (c) => c.notNull().defaultTo(0.5))
          .addColumn('leases_completed', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('leases_failed', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('telemetry', 'text')
          .addColumn('last_heartbeat_at', time)
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('updated_at', time, (c) => c.notNull())
          .addUniqueConstraint('nodes_owner_machine', ['owner', 'machine_id'])
          .execute();
        await db.schema.createIndex('nodes_schedulable').on('nodes').columns(['status', 'price_per_gpu_hour', 'reliability']).execute();

        await db.schema
          .createTable('gpus')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('node_id', 'text', (c) => c.notNull())
          .addColumn('idx', 'integer', (c) => c.notNull())
          .addColumn('uuid', 'text', (c) => c.notNull())
          .addColumn('model', 'text', (c) => c.notNull())
          .addColumn('vram_mb', 'integer', (c) => c.notNull())
          .addColumn('lease_id', 'text')
          .execute();
        await db.schema.createIndex('gpus_node').on('gpus').columns(['node_id', 'lease_id']).execute();
        await db.schema.createIndex('gpus_lease').on('gpus').column('lease_id').execute();

        await db.schema
          .createTable('quotes')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('renter', 'text', (c) => c.notNull())
          .addColumn('request', 'text', (c) => c.notNull())
          .addColumn('allocations', 'text', (c) => c.notNull())
          .addColumn('gpus', 'integer', (c) => c.notNull())
          .addColumn('model', 'text')
          .addColumn('hours', 'integer', (c) => c.notNull())
          .addColumn('price_per_gpu_hour', money, (c) => c.notNull())
          .addColumn('per_hour', money, (c) => c.notNull())
          .addColumn('total', money, (c) => c.notNull())
          .addColumn('fee', money, (c) => c.notNull())
          .addColumn('expires_at', time, (c) => c.notNull())
          .addColumn('lease_id', 'text')
          .addColumn('created_at', time, (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('leases')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('renter', 'text', (c) => c.notNull())
          .addColumn('quote_id', 'text', (c) => c.notNull().unique())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('gpus', 'integer', (c) => c.notNull())
          .addColumn('model', 'text')
          .addColumn('hours', 'integer', (c) => c.notNull())
          .addColumn('price_per_gpu_hour', money, (c) => c.notNull())
          .addColumn('per_hour', money, (c) => c.notNull())
          .addColumn('total_paid', money, (c) => c.notNull())
          .addColumn('refund', money, (c) => c.notNull().defaultTo(0))
          .addColumn('image', 'text', (c) => c.notNull())
          .addColumn('command', 'text')
          .addColumn('env', 'text', (c) => c.notNull())
          .addColumn('ports', 'text', (c) => c.notNull())
          .addColumn('payment_signature', 'text', (c) => c.unique())
          .addColumn('failure_reason', 'text')
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('starts_at', time, (c) => c.notNull())
          .addColumn('started_at', time)
          .addColumn('ends_at', time, (c) => c.notNull())
          .addColumn('stopped_at', time)
          .addColumn('accrued_minutes', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.createIndex('leases_renter').on('leases').columns(['renter', 'state']).execute();
        await db.schema.createIndex('leases_state').on('leases').columns(['state', 'ends_at']).execute();

        await db.schema
          .createTable('lease_allocations')
          .addColumn('lease_id', 'text', (c) => c.notNull())
          .addColumn('node_id', 'text', (c) => c.notNull())
          .addColumn('gpu_id', 'text', (c) => c.notNull())
          .addColumn('gpu_uuid', 'text', (c) => c.notNull())
          .addColumn('price_per_gpu_hour', money, (c) => c.notNull())
          .addColumn('active', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('lease_allocations_pk', ['lease_id', 'gpu_id'])
          .execute();
        // The last line of defence against double booking: one active allocation per GPU, enforced by the database.
        await db.schema.createIndex('lease_allocations_active_gpu').on('lease_allocations').column('gpu_id').unique().where(sql.ref('active'), '=', 1).execute();
        await db.schema.createIndex('lease_allocations_node').on('lease_allocations').columns(['node_id', 'active']).execute();

        const autoId = (t: ReturnType<Kysely<any>['schema']['createTable']>) =>
          kind === 'postgres'
            ? t.addColumn('id', 'bigserial', (c) => c.primaryKey())
            : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

        await autoId(db.schema.createTable('ledger'))
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('account', 'text', (c) => c.notNull())
          .addColumn('amount', money, (c) => c.notNull())
          .addColumn('lease_id', 'text')
          .addColumn('claim_id', 'text')
          .addColumn('created_at', time, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('ledger_account').on('ledger').columns(['account', 'kind']).execute();

        await db.schema
          .createTable('claims')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('amount', money, (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('signed_tx', 'text')
          .addColumn('signature', 'text')
          .addColumn('last_valid_block_height', 'bigint')
          .addColumn('error', 'text')
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('updated_at', time, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('claims_state').on('claims').column('state').execute();

        await db.schema
          .createTable('idempotency')
          .addColumn('pubkey', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('method', 'text', (c) => c.notNull())
          .addColumn('path', 'text', (c) => c.notNull())
          .addColumn('status', 'integer', (c) => c.notNull())
          .addColumn('response', 'text')
          .addColumn('created_at', time, (c) => c.notNull())
          .addPrimaryKeyConstraint('idempotency_pk', ['pubkey', 'key'])
          .execute();

        await db.schema
          .createTable('nonces')
          .addColumn('pubkey', 'text', (c) => c.notNull())
          .addColumn('nonce', 'text', (c) => c.notNull())
          .addColumn('expires_at', time, (c) => c.notNull())
          .addPrimaryKeyConstraint('nonces_pk', ['pubkey', 'nonce'])
          .execute();
        await db.schema.createIndex('nonces_expiry').on('nonces').column('expires_at').execute();

        await autoId(db.schema.createTable('lease_logs'))
          .addColumn('lease_id', 'text', (c) => c.notNull())
          .addColumn('stream', 'text', (c) => c.notNull())
          .addColumn('data', 'text', (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('lease_logs_lease').on('lease_logs').columns(['lease_id', 'id']).execute();
      },
    },
    // Claims become the payout outbox for refunds too; payments get their own table so one transaction (and one quote
    // or extension reference) pays once, checked before anything is submitted.
    '0002_payouts_and_payments': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('claims').addColumn('kind', 'text', (c) => c.notNull().defaultTo('claim')).execute();
        await db.schema.alterTable('claims').addColumn('lease_id', 'text').execute();
        await db.schema.createIndex('claims_lease').on('claims').column('lease_id').execute();
        await db.schema.createIndex('claims_owner').on('claims').columns(['owner', 'created_at']).execute();
        await db.schema
          .createTable('payments')
          .addColumn('signature', 'text', (c) => c.primaryKey())
          .addColumn('reference', 'text', (c) => c.notNull().unique())
          .addColumn('renter', 'text', (c) => c.notNull())
          .addColumn('amount', money, (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .execute();
      },
    },
    // Heartbeat sessions survive restarts and are shared by replicas; nodes learn drain, reachability and verification.
    '0003_node_sessions': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('node_sessions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('node_id', 'text', (c) => c.notNull())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('expires_at', time, (c) => c.notNull())
          .addColumn('created_at', time, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('node_sessions_expiry').on('node_sessions').column('expires_at').execute();
        await db.schema.alterTable('nodes').addColumn('draining', 'integer', (c) => c.notNull().defaultTo(0)).execute();
        await db.schema.alterTable('nodes').addColumn('public_host', 'text').execute();
        await db.schema.alterTable('nodes').addColumn('verification', 'text').execute();
      },
    },
    // The renter may ask for a read-only root filesystem: only they know whether their image tolerates one.
    '0004_lease_read_only_root': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('leases').addColumn('read_only_root', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      },
    },
    // Relay (issue 9): which replica holds each node agent's relay link, so a renter's stream on another replica finds it.
    '0090_i9_relay_links': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('relay_links')
          .addColumn('node_id', 'text', (c) => c.primaryKey())
          .addColumn('replica_url', 'text', (c) => c.notNull())
          .addColumn('replica_secret', 'text', (c) => c.notNull())
          .addColumn('updated_at', time, (c) => c.notNull())
          .execute();
      },
    },
    // Provider trust (issue 10): coordinator-issued GPU challenges; `verified` comes only from a passed one, until it ages out.
    '0100_i10_challenges': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('challenges')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('node_id', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('spec', 'text', (c) => c.notNull())
          .addColumn('roots', 'text')
          .addColumn('samples', 'text')
          .addColumn('detail', 'text')
          .addColumn('issued_at', time, (c) => c.notNull())
          .addColumn('deadline_at', time, (c) => c.notNull())
          .addColumn('committed_at', time)
          .addColumn('answer_deadline_at', time)
          .addColumn('finished_at', time)
          .execute();
        await db.schema.createIndex('challenges_node').on('challenges').columns(['node_id', 'issued_at']).execute();
        await db.schema.createIndex('challenges_state').on('challenges').columns(['state', 'deadline_at']).execute();
        await db.schema.alterTable('nodes').addColumn('verified_until', time).execute();
        await db.schema.alterTable('nodes').addColumn('next_challenge_at', time).execute();
      },
    },
    // Container output is bytes (NUL, invalid UTF-8): stored as a blob/bytea; `data` stays for rows written before.
    '0110_i11a_lease_log_bytes': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('lease_logs').addColumn('bytes', kind === 'postgres' ? 'bytea' : 'blob').execute();
      },
    },
    // Issue 11 (i11b): replay protection that survives restarts and spans replicas, quote holds, idempotency claims that expire.
    '0111_i11b_idempotency_owner': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('idempotency').addColumn('owner', 'text').execute();
        await db.schema.alterTable('idempotency').addColumn('expires_at', time).execute();
      },
    },
    '0111_i11b_quote_holds': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('gpus').addColumn('held_by', 'text').execute();
        await db.schema.alterTable('gpus').addColumn('held_until', time).execute();
      },
    },
    '0111_i11b_session_seq_marks': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('node_sessions').addColumn('seq_mark', time, (c) => c.notNull().defaultTo(0)).execute();
      },
    },
    // Batch jobs: the exit code the workload's container ended with (null while it runs, or when it never ran).
    '0120_i12_lease_exit_code': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('leases').addColumn('exit_code', 'integer').execute();
      },
    },
    // The renter may run the container as a non-root user and without egress; existing leases keep root and egress.
    '0150_i15_lease_user_egress': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('leases').addColumn('run_as', 'text').execute();
        await db.schema.alterTable('leases').addColumn('egress', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      },
    },
    // What isolation a node gives its leases (own network, root remapped, LAN blocked), shown with offers and leases.
    '0150_i15_node_isolation': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('nodes').addColumn('isolation', 'text').execute();
      },
    },
    // Provider trust (issue 10): a token bond per GPU, slashed exactly once per trigger; only bonded GPUs are offered.
    // Named to sort after every migration merged before it (the Migrator refuses out-of-order ones on existing data).
    '0160_i10_bonds': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('bonds')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('node_id', 'text', (c) => c.notNull())
          .addColumn('gpu_uuid', 'text', (c) => c.notNull())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('amount', money, (c) => c.notNull())
          .addColumn('balance', money, (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('payment_signature', 'text')
          .addColumn('unbond_at', time)
          .addColumn('payout_id', 'text')
          .addColumn('created_at', time, (c) => c.notNull())
          .addColumn('updated_at', time, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('bonds_node').on('bonds').columns(['node_id', 'state']).execute();
        await db.schema.createIndex('bonds_due').on('bonds').columns(['state', 'unbond_at']).execute();
        await db.schema
          .createTable('slashes')
          .addColumn('trigger', 'text', (c) => c.primaryKey())
          .addColumn('node_id', 'text', (c) => c.notNull())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('amount', money, (c) => c.notNull())
          .addColumn('renter', 'text')
          .addColumn('renter_amount', money, (c) => c.notNull())
          .addColumn('network_amount', money, (c) => c.notNull())
          .addColumn('payout_id', 'text')
          .addColumn('created_at', time, (c) => c.notNull())
          .execute();
        await db.schema.alterTable('gpus').addColumn('bonded', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      },
    },
    // Evidence for paid time (issue 10): random liveness probes of running leases; a failed one stops accrual until a pass.
    '0161_i10_probes': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('probes')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('node_id', 'text', (c) => c.notNull())
          .addColumn('leases', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('detail', 'text')
          .addColumn('issued_at', time, (c) => c.notNull())
          .addColumn('deadline_at', time, (c) => c.notNull())
          .addColumn('answered_at', time)
          .execute();
        await db.schema.createIndex('probes_state').on('probes').columns(['state', 'deadline_at']).execute();
        await db.schema.createIndex('probes_node').on('probes').columns(['node_id', 'issued_at']).execute();
        await db.schema.alterTable('leases').addColumn('unproven_from', time).execute();
        await db.schema.alterTable('nodes').addColumn('next_probe_at', time).execute();
      },
    },
    // Quote holds per renter (src/coordinator/quotes.ts): the live quotes of a renter, and the GPUs each quote holds.
    '0170_quote_hold_indexes': {
      async up(db: Kysely<any>) {
        await db.schema.createIndex('quotes_renter_live').on('quotes').columns(['renter', 'expires_at']).execute();
        await db.schema.createIndex('gpus_held_by').on('gpus').column('held_by').execute();
      },
    },
    // Frozen minutes (issue 10): running time a failed probe left unpaid goes back to the renter; counted per lease.
    '0230_i10e_frozen_refunds': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('leases').addColumn('frozen_minutes', 'integer', (c) => c.notNull().defaultTo(0)).execute();
        await db.schema.alterTable('leases').addColumn('frozen_refund', money, (c) => c.notNull().defaultTo(0)).execute();
      },
    },
    // The VRAM round of a GPU challenge (src/domain/vram.ts): the words queried at the commitment, per GPU.
    '0240_i10k_challenge_vram': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('challenges').addColumn('vram_queries', 'text').execute();
      },
    },
    // A quote its renter released (declined, cancelled): its GPUs are free again at once and it can no longer be paid for.
    '0310_quote_release_released_at': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('quotes').addColumn('released_at', time).execute();
      },
    },
  };
}

export async function migrateToLatest(db: Kysely<any>, kind: EngineKind): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations(kind) } });
  const { error } = await migrator.migrateToLatest();
  if (error) throw new ExternalError(`Database migration failed: ${(error as Error).message ?? String(error)}`, { code: 'MIGRATION_FAILED', cause: error });
}
