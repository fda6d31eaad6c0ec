// A throwaway coordinator database for a bench run: a temp SQLite folder, or a fresh PostgreSQL database (IOCLI_TEST_PG_URL).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const PG_URL = process.env.IOCLI_TEST_PG_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';

async function admin(statement) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Returns `{ location, cleanup }`; location is `{ dataDir }` or `{ databaseUrl }` as the coordinator options take them. */
export async function createBenchDatabase(kind) {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'iocli-bench-'));
    return { location: { dataDir: dir }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `iocli_bench_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return { location: { databaseUrl: url.toString() }, cleanup: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
