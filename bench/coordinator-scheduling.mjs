// Scheduling latency through the real store: 10,000 nodes / 80,000 GPUs, p50/p99 of placement and of a full quote.
// Usage: npm run build && node bench/coordinator-scheduling.mjs [sqlite|postgres|both]   (PostgreSQL: IOCLI_TEST_PG_URL)
import { createBenchDatabase } from './bench-database.mjs';
import { sql } from 'kysely';
import { openDatabase } from '../dist/src/coordinator/db.js';
import { CoordinatorService } from '../dist/src/coordinator/service.js';

const NODES = 10_000;
const GPUS_PER_NODE = 8;
const ITERATIONS = 2_000;
const MODELS = ['NVIDIA GeForce RTX 4090', 'NVIDIA A100 80GB', 'NVIDIA H100 80GB', 'NVIDIA L40S'];

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

async function seed(db) {
  const now = Date.now();
  for (let start = 0; start < NODES; start += 500) {
    const nodes = [];
    const gpus = [];
    for (let i = start; i < Math.min(NODES, start + 500); i++) {
      const id = `node_${i}`;
      const model = MODELS[i % MODELS.length];
      // ~30% of GPUs are leased, so nodes have 0-8 free.
      const leased = i % 10 < 3 ? (i % GPUS_PER_NODE) + 1 : 0;
      nodes.push({ id, owner: `owner${i % 100}`, machine_id: `m${i}`, specs: '{}', region: ['eu', 'us', 'asia'][i % 3], price_per_gpu_hour: 500_000 + ((i * 7919) % 2_000_000), simulated: 0, verified: i % 2, status: 'online', models: model.toLowerCase(), max_vram_mb: 81_920, free_gpus: GPUS_PER_NODE - leased, total_gpus: GPUS_PER_NODE, reliability: ((i * 31) % 100) / 100, leases_completed: 0, leases_failed: 0, telemetry: null, last_heartbeat_at: now, created_at: now, updated_at: now });
      for (let g = 0; g < GPUS_PER_NODE; g++) gpus.push({ id: `${id}/GPU-${g}`, node_id: id, idx: g, uuid: `GPU-${i}-${g}`, model, vram_mb: 81_920, lease_id: g < leased ? `lease_x${i}` : null });
    }
    await db.insertInto('nodes').values(nodes).execute();
    for (let k = 0; k < gpus.length; k += 1000) await db.insertInto('gpus').values(gpus.slice(k, k + 1000)).execute();
  }
}

async function run(kind) {
  const { location, cleanup } = await createBenchDatabase(kind);
  const engine = await openDatabase(location);
  try {
    const t0 = performance.now();
    await seed(engine.db);
    if (kind === 'postgres') await sql`analyze`.execute(engine.db);
    const seedMs = performance.now() - t0;
    const service = new CoordinatorService(engine, { dev: true, feeBps: 500, treasuryAccount: 'treasury', heartbeatGraceMs: 30_000, quoteTtlMs: 300_000, assignmentCacheMs: 1000, now: Date.now });
    const requests = Array.from({ length: ITERATIONS }, (_, i) => ({
      gpus: [1, 2, 4, 8][i % 4],
      model: i % 5 === 0 ? undefined : ['4090', 'A100', 'H100', 'L40S'][i % 4],
      region: i % 7 === 0 ? 'eu' : undefined,
      maxPrice: i % 3 === 0 ? 1_500_000 : undefined,
      multiNode: i % 11 === 0,
    }));
    for (let i = 0; i < 50; i++) await service.findPlacement(engine.db, requests[i]);
    const placement = [];
    for (const request of requests) {
      const start = performance.now();
      const result = await service.findPlacement(engine.db, request);
      placement.push(performance.now() - start);
      if (!result.ok) throw new Error(`no placement for ${JSON.stringify(request)}`);
    }
    const quotes = [];
    for (const request of requests.slice(0, 500)) {
      const start = performance.now();
      await service.quote('renter', { ...request, hours: 1, image: 'busybox', env: {}, ports: [] });
      quotes.push(performance.now() - start);
    }
    placement.sort((a, b) => a - b);
    quotes.sort((a, b) => a - b);
    const fmt = (v) => v.toFixed(2);
    console.log(`${kind}: ${NODES} nodes / ${NODES * GPUS_PER_NODE} GPUs (seeded in ${(seedMs / 1000).toFixed(1)} s)`);
    console.log(`  placement  n=${placement.length}  p50 ${fmt(percentile(placement, 50))} ms  p99 ${fmt(percentile(placement, 99))} ms  max ${fmt(placement.at(-1))} ms`);
    console.log(`  quote      n=${quotes.length}  p50 ${fmt(percentile(quotes, 50))} ms  p99 ${fmt(percentile(quotes, 99))} ms  max ${fmt(quotes.at(-1))} ms`);
    console.log(`  target p99 < 20 ms: ${percentile(placement, 99) < 20 ? 'met' : 'NOT met'}`);
  } finally {
    await engine.close();
    await cleanup();
  }
}

const which = process.argv[2] ?? 'both';
for (const kind of which === 'both' ? ['sqlite', 'postgres'] : [which]) await run(kind);
