// Starts a real coordinator on 127.0.0.1:0 over SQLite (temp dir) or PostgreSQL (fresh database) for integration tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiClient, type ApiClient } from '../../src/api/client.js';
import type { RegisterNodeRequest } from '../../src/api/schemas/nodes.js';
import { startCoordinator, type CoordinatorOptions, type CoordinatorServer } from '../../src/coordinator/server.js';
import { generateKeypair, type Keypair } from '../../src/wallet/keypair.js';
import { createTestDatabase } from './postgres.js';

export type EngineName = 'sqlite' | 'postgres';
export const ENGINES: EngineName[] = ['sqlite', 'postgres'];

export interface TestCoordinator {
  server: CoordinatorServer;
  url: string;
  client(keypair?: Keypair): ApiClient;
  /** Where the data lives: the SQLite dir or the PostgreSQL URL (to restart on the same data). */
  location: { dataDir?: string; databaseUrl?: string };
  close(): Promise<void>;
}

/** Storage for a test file; `release` drops it. */
export async function createStorage(engine: EngineName): Promise<{ location: { dataDir?: string; databaseUrl?: string }; release(): Promise<void> }> {
  if (engine === 'sqlite') {
    const dataDir = await mkdtemp(join(tmpdir(), 'iocli-coord-'));
    return { location: { dataDir }, release: () => rm(dataDir, { recursive: true, force: true }) };
  }
  const database = await createTestDatabase();
  return { location: { databaseUrl: database.url }, release: () => database.drop() };
}

export async function startTestCoordinator(engine: EngineName, options: CoordinatorOptions = {}): Promise<TestCoordinator> {
  const storage = await createStorage(engine);
  let server: CoordinatorServer;
  try {
    server = await startCoordinator({ port: 0, dev: true, rateLimit: false, ...storage.location, ...options });
  } catch (error) {
    await storage.release();
    throw error;
  }
  return {
    server,
    url: server.url,
    location: storage.location,
    // Every answer a test reads is checked against the shared schemas, so the server cannot drift from them unseen.
    client: (keypair) => createApiClient({ baseUrl: server.url, keypair, timeoutMs: 20_000, validateResponses: true }),
    close: async () => {
      await server.close().catch(() => {});
      await storage.release();
    },
  };
}

export function newKeypair(): Keypair {
  return generateKeypair();
}

let machineCounter = 0;
export function nodeSpec(overrides: Partial<RegisterNodeRequest> & { gpuCount?: number; model?: string } = {}): RegisterNodeRequest {
  const { gpuCount = 2, model = 'NVIDIA GeForce RTX 4090', ...rest } = overrides;
  const machineId = rest.machineId ?? `machine-${process.pid}-${++machineCounter}`;
  return {
    machineId,
    gpus: Array.from({ length: gpuCount }, (_, index) => ({ index, uuid: `GPU-${machineId}-${index}`, model, vramMb: 24_576 })),
    cpu: { model: 'Test CPU', cores: 16 },
    memoryMb: 65_536,
    diskGb: 500,
    driverVersion: '550.54',
    cudaVersion: '12.4',
    dockerVersion: '24.0.7',
    region: 'eu-west',
    pricePerGpuHour: 1_000_000,
    simulated: true,
    ...rest,
  };
}
