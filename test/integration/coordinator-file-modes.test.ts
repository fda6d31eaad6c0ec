// The coordinator's SQLite data holds heartbeat session keys: its directory is 0700 and its database files 0600, also
// when an older version left them readable by everyone.
import { chmodSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator } from '../../src/coordinator/server.js';
import { newKeypair, nodeSpec } from '../support/coordinator.js';
import { createApiClient } from '../../src/api/client.js';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('coordinator data file modes', () => {
  let parent: string;
  const previousUmask = process.umask(0o022);

  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'iocli-modes-'));
  });
  afterAll(async () => {
    process.umask(previousUmask);
    if (parent) await rm(parent, { recursive: true, force: true });
  });

  it('creates the data directory 0700 and the database, WAL and SHM files 0600', async () => {
    const dataDir = join(parent, 'fresh', 'data');
    const server = await startCoordinator({ port: 0, dev: true, rateLimit: false, dataDir });
    try {
      // A write makes sure the WAL exists.
      await createApiClient({ baseUrl: server.url, keypair: newKeypair() }).registerNode(nodeSpec());
      expect(mode(dataDir)).toBe(0o700);
      for (const file of ['coordinator.sqlite', 'coordinator.sqlite-wal', 'coordinator.sqlite-shm']) expect([file, mode(join(dataDir, file))]).toEqual([file, 0o600]);
    } finally {
      await server.close();
    }
  });

  it('tightens a database an older version left 0644', async () => {
    const dataDir = join(parent, 'fresh', 'data');
    chmodSync(join(dataDir, 'coordinator.sqlite'), 0o644);
    const server = await startCoordinator({ port: 0, dev: true, rateLimit: false, dataDir });
    try {
      expect(mode(join(dataDir, 'coordinator.sqlite'))).toBe(0o600);
    } finally {
      await server.close();
    }
  });
});
