// Opens the coordinator database (SQLite in a data directory, or PostgreSQL) and isolates the engine-specific statements.
import { chmodSync, existsSync, mkdirSync, openSync, closeSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect, sql, type ExpressionBuilder, type Transaction } from 'kysely';
import { UserError } from '../errors.js';
import type { Database } from './tables.js';
import { migrateToLatest } from './migrations.js';
import { processAlive } from '../process-alive.js';

export type EngineKind = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;

export interface Engine {
  kind: EngineKind;
  db: Db;
  /**
   * A write transaction that serialises against other allocators: SQLite takes the write lock up front (BEGIN IMMEDIATE,
   * no upgrade deadlocks); PostgreSQL runs READ COMMITTED and relies on row locks, retrying on deadlock/serialization errors.
   */
  writeTransaction<T>(fn: (trx: Db) => Promise<T>): Promise<T>;
  /**
   * Lock the given GPU rows for this transaction and return the ids that are still free for `holds.holder`: not leased,
   * and not held by another quote whose hold lasts past `holds.now`. With `skipLocked`, rows another transaction has
   * locked are left out instead of waited for (PostgreSQL; SQLite has one writer anyway).
   */
  lockFreeGpus(trx: Db, gpuIds: readonly string[], holds: GpuHoldCheck): Promise<Set<string>>;
  /** Serialise balance-changing work for one account (claims) within this transaction. */
  lockAccount(trx: Db, account: string): Promise<void>;
  /** Lock one lease row for an update in this transaction. */
  lockLease(trx: Db, leaseId: string): Promise<void>;
  /**
   * Lock node rows (sorted) before recounting their free GPUs: under READ COMMITTED the recount is then a new statement
   * that sees every concurrent change committed before the lock was granted, instead of a snapshot from before the wait.
   */
  lockNodes(trx: Db, nodeIds: readonly string[]): Promise<void>;
  /** Write buffered heartbeats (last seen, telemetry, back online) and heartbeat nonces in one batch. */
  writeHeartbeats(beats: readonly HeartbeatRow[], nonces: readonly NonceRow[]): Promise<void>;
  close(): Promise<void>;
}

/** One node's latest buffered heartbeat; telemetry already serialised. */
export interface HeartbeatRow {
  id: string;
  at: number;
  telemetry: string;
}

export interface GpuHoldCheck {
  /** The quote asking: its own holds count as free. */
  holder: string | null;
  now: number;
  skipLocked?: boolean;
}

export interface NonceRow {
  pubkey: string;
  nonce: string;
  expires_at: number;
}

export interface OpenOptions {
  dataDir?: string;
  databaseUrl?: string;
  /** Pool size for PostgreSQL. */
  maxConnections?: number;
}

export async function openDatabase(options: OpenOptions): Promise<Engine> {
  const engine = options.databaseUrl ? await openPostgres(options.databaseUrl, options.maxConnections ?? 10) : await openSqlite(requireDir(options.dataDir));
  try {
    await migrateToLatest(engine.db, engine.kind);
  } catch (error) {
    await engine.close();
    throw error;
  }
  return engine;
}

function requireDir(dir: string | undefined): string {
  if (!dir) throw new UserError('The coordinator needs a data directory or a database URL.', { hint: 'Pass --data-dir DIR or --database-url postgres://…' });
  return dir;
}

async function openSqlite(dataDir: string): Promise<Engine> {
  // The database holds heartbeat session keys: owner-only, like the keypairs (SQLite gives its -wal and -shm files the
  // database file's mode). A database left 0644 by an older version is tightened.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const releaseLock = acquireDirLock(dataDir);
  const { default: BetterSqlite3 } = await import('better-sqlite3');
  let database: import('better-sqlite3').Database;
  try {
    const path = join(dataDir, 'coordinator.sqlite');
    closeSync(openSync(path, 'a', 0o600));
    for (const file of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(file)) chmodSync(file, 0o600);
    database = new BetterSqlite3(path);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('busy_timeout = 5000');
  } catch (error) {
    releaseLock();
    throw error;
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  // The heartbeat flush runs every 500 ms over every live node: one prepared statement reused per row costs less than
  // Kysely compiling (and SQLite preparing) a large UPDATE … FROM (VALUES …) per batch. Prepared on first use (after migrations).
  let writeBatch: ((beats: readonly HeartbeatRow[], nonces: readonly NonceRow[]) => void) | undefined;
  const heartbeatWriter = () => {
    const update = database.prepare<[number, string, string]>(`update nodes set last_heartbeat_at = max(coalesce(last_heartbeat_at, 0), ?), telemetry = ?, status = 'online' where id = ?`);
    const insertNonce = database.prepare<[string, string, number]>('insert into nonces (pubkey, nonce, expires_at) values (?, ?, ?) on conflict do nothing');
    const batch = database.transaction((beats: readonly HeartbeatRow[], nonces: readonly NonceRow[]) => {
      for (const b of beats) update.run(b.at, b.telemetry, b.id);
      for (const n of nonces) insertNonce.run(n.pubkey, n.nonce, n.expires_at);
    });
    return (beats: readonly HeartbeatRow[], nonces: readonly NonceRow[]) => batch.immediate(beats, nonces);
  };
  return {
    kind: 'sqlite',
    db,
    // Kysely's SQLite driver has one connection behind a mutex: holding it for the whole transaction serialises writers in-process,
    // and BEGIN IMMEDIATE takes the database write lock before the first read.
    writeTransaction: (fn) =>
      db.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn);
        try {
          const result = await fn(conn);
          await sql`commit`.execute(conn);
          return result;
        } catch (error) {
          await sql`rollback`.execute(conn).catch(() => {});
          throw error;
        }
      }),
    lockFreeGpus: async (trx, gpuIds, holds) => {
      const free = new Set<string>();
      for (let i = 0; i < gpuIds.length; i += 500) {
        const rows = await trx.selectFrom('gpus').select('id').where('id', 'in', gpuIds.slice(i, i + 500)).where('lease_id', 'is', null).where(notHeldByOthers(holds)).execute();
        for (const row of rows) free.add(row.id);
      }
      return free;
    },
    lockAccount: async () => {},
    lockLease: async () => {},
    lockNodes: async () => {},
    // Holding Kysely's connection (its mutex) keeps the raw writes out of any transaction a Kysely caller has open.
    writeHeartbeats: (beats, nonces) =>
      db.connection().execute(async () => {
        writeBatch ??= heartbeatWriter();
        writeBatch(beats, nonces);
      }),
    close: async () => {
      await db.destroy();
      releaseLock();
    },
  };
}

/** GPU rows no other quote holds at `now` (quote holds, quotes.ts). */
export function notHeldByOthers(holds: { holder: string | null; now: number }) {
  return (eb: ExpressionBuilder<Database, 'gpus'>) =>
    eb.or([eb('gpus.held_until', 'is', null), eb('gpus.held_until', '<=', holds.now), ...(holds.holder ? [eb('gpus.held_by', '=', holds.holder)] : [])]);
}

/** One coordinator per SQLite directory: a pid file, taken over only when its process is gone (kill -9 leaves it behind). */
function acquireDirLock(dataDir: string): () => void {
  const path = join(dataDir, 'coordinator.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new UserError(`Another coordinator (pid ${pid}) is using the data directory ${dataDir}.`, {
          code: 'DATA_DIR_LOCKED',
          hint: 'Stop it first, or pass a different --data-dir.',
        });
      }
      if (pid === process.pid) {
        throw new UserError(`The data directory ${dataDir} is already open in this process.`, { code: 'DATA_DIR_LOCKED' });
      }
      try {
        unlinkSync(path);
      } catch {
        // raced with another starter; retry
      }
    }
  }
  throw new UserError(`Could not lock the data directory ${dataDir}.`, { code: 'DATA_DIR_LOCKED' });
}

async function openPostgres(url: string, max: number): Promise<Engine> {
  const { default: pg } = await import('pg');
  // BIGINT and COUNT(*) come back as strings by default; every integer iocli stores fits a JS number.
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') =>
      oid === 20 ? (value: string) => Number(value) : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format),
  };
  const pool = new pg.Pool({ connectionString: url, max, types: types as never });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it. Queries in flight still see their own error.
  });
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new UserError(`Cannot connect to PostgreSQL: ${(error as Error).message}`, {
      code: 'DATABASE_UNREACHABLE',
      hint: 'Check --database-url / DATABASE_URL and that the server is running.',
      cause: error,
    });
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    kind: 'postgres',
    db,
    writeTransaction: async (fn) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await db.transaction().execute((trx: Transaction<Database>) => fn(trx));
        } catch (error) {
          const code = (error as { code?: string }).code;
          if ((code === '40P01' || code === '40001') && attempt < 5) continue;
          throw error;
        }
      }
    },
    lockFreeGpus: async (trx, gpuIds, holds) => {
      // Sorted so concurrent allocators lock in the same order (no deadlocks); READ COMMITTED re-checks lease_id after waiting.
      const sorted = [...gpuIds].sort();
      const query = trx.selectFrom('gpus').select('id').where('id', 'in', sorted).where('lease_id', 'is', null).where(notHeldByOthers(holds)).orderBy('id').forUpdate();
      const rows = await (holds.skipLocked ? query.skipLocked() : query).execute();
      return new Set(rows.map((r) => r.id));
    },
    lockAccount: async (trx, account) => {
      await sql`select pg_advisory_xact_lock(hashtext(${account}))`.execute(trx);
    },
    lockLease: async (trx, leaseId) => {
      await trx.selectFrom('leases').select('id').where('id', '=', leaseId).forUpdate().execute();
    },
    lockNodes: async (trx, nodeIds) => {
      if (nodeIds.length === 0) return;
      await trx.selectFrom('nodes').select('id').where('id', 'in', [...nodeIds].sort()).orderBy('id').forUpdate().execute();
    },
    writeHeartbeats: async (beats, nonces) => {
      for (let i = 0; i < beats.length; i += 1000) {
        const values = sql.join(beats.slice(i, i + 1000).map((b) => sql`(${b.id}::text, ${b.at}::bigint, ${b.telemetry}::text)`));
        await sql`update nodes as n set last_heartbeat_at = greatest(coalesce(n.last_heartbeat_at, 0), v.at), telemetry = v.t, status = 'online' from (values ${values}) as v(id, at, t) where n.id = v.id`.execute(db);
      }
      for (let i = 0; i < nonces.length; i += 1000) {
        await db.insertInto('nonces').values(nonces.slice(i, i + 1000)).onConflict((oc) => oc.doNothing()).execute();
      }
    },
    close: () => db.destroy(),
  };
}
