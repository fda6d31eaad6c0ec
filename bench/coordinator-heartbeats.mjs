// Heartbeat ingest over real HTTP: the coordinator runs in its own process, this one signs and fires keep-alive requests.
// Usage: npm run build && node bench/coordinator-heartbeats.mjs [sqlite|postgres|both] [seconds]   (PostgreSQL: IOCLI_TEST_PG_URL)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { createApiClient } from '../dist/src/api/client.js';
import { createSigner } from '../dist/src/api/signing.js';
import { generateKeypair } from '../dist/src/wallet/keypair.js';

const NODES = 2_000;
const CONCURRENCY = 128;
const SECONDS = Number(process.argv[3] ?? 5);
const PG_URL = process.env.IOCLI_TEST_PG_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const entry = new URL('../dist/src/coordinator/main-process.js', import.meta.url).pathname;

function startCoordinator(options) {
  const child = spawn(process.execPath, [entry, JSON.stringify({ port: 0, dev: true, rateLimit: false, heartbeatGraceMs: 600_000, ...options })], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => resolve({ child, url: JSON.parse(line).url }));
    child.once('exit', (code) => reject(new Error(`coordinator exited ${code}`)));
  });
}

async function run(kind) {
  let cleanup = async () => {};
  let location;
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'iocli-hb-'));
    location = { dataDir: dir };
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const name = `iocli_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(PG_URL);
    url.pathname = `/${name}`;
    location = { databaseUrl: url.toString() };
    cleanup = async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  }
  const { child, url } = await startCoordinator(location);
  try {
    const nodes = [];
    for (let i = 0; i < NODES; i++) {
      const keypair = generateKeypair();
      const client = createApiClient({ baseUrl: url, keypair });
      const node = await client.registerNode({
        machineId: `bench-${i}`,
        gpus: Array.from({ length: 8 }, (_, index) => ({ index, uuid: `GPU-${i}-${index}`, model: 'NVIDIA GeForce RTX 4090', vramMb: 24_576 })),
        cpu: { cores: 32 },
        memoryMb: 262_144,
        region: 'eu',
        pricePerGpuHour: 1_000_000,
        simulated: true,
      });
      nodes.push({ id: node.id, sign: createSigner(keypair) });
    }
    const { hostname, port } = new URL(url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const body = JSON.stringify({ gpus: Array.from({ length: 8 }, (_, i) => ({ uuid: `GPU-x-${i}`, utilization: 50, memoryUsedMb: 1000, temperatureC: 60 })), containers: [] });
    let ok = 0;
    let failed = 0;
    const latencies = [];
    const deadline = performance.now() + SECONDS * 1000;
    const fire = (node) =>
      new Promise((resolve) => {
        const path = `/v1/nodes/${node.id}/heartbeat`;
        const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...node.sign('POST', path, body) };
        const start = performance.now();
        const req = http.request({ hostname, port, path, method: 'POST', agent, headers }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) ok++;
            else failed++;
            latencies.push(performance.now() - start);
            resolve();
          });
        });
        req.on('error', () => {
          failed++;
          resolve();
        });
        req.end(body);
      });
    let next = 0;
    const worker = async () => {
      while (performance.now() < deadline) await fire(nodes[next++ % nodes.length]);
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const elapsed = (performance.now() - t0) / 1000;
    latencies.sort((a, b) => a - b);
    const rate = ok / elapsed;
    const target = kind === 'sqlite' ? 15_000 : 10_000;
    console.log(`${kind}: ${ok} heartbeats in ${elapsed.toFixed(1)} s = ${Math.round(rate)}/s (failed ${failed}); p50 ${latencies[Math.floor(latencies.length / 2)]?.toFixed(1)} ms, p99 ${latencies[Math.floor(latencies.length * 0.99)]?.toFixed(1)} ms; ${NODES} nodes, concurrency ${CONCURRENCY}`);
    console.log(`  target ≥ ${target}/s: ${rate >= target ? 'met' : 'NOT met'} (client and server share this machine's cores)`);
    agent.destroy();
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await cleanup();
  }
}

const which = process.argv[2] ?? 'both';
for (const kind of which === 'both' ? ['sqlite', 'postgres'] : [which]) await run(kind);
