// Heartbeat ingest over real HTTP: the coordinator runs in its own process, this one signs and fires keep-alive requests.
// Usage: npm run build && node bench/coordinator-heartbeats.mjs [sqlite|postgres|both] [seconds]   (PostgreSQL: IOCLI_TEST_PG_URL)
// Heartbeats go over pre-opened heartbeat sessions (HMAC) as the agent sends them; BENCH_AUTH=signed signs each with ed25519.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { createBenchDatabase } from './bench-database.mjs';
import { createApiClient } from '../dist/src/api/client.js';
import { createSigner } from '../dist/src/api/signing.js';
import { createSessionKeyPair, deriveSessionKey, HeartbeatSessionClient } from '../dist/src/api/heartbeat-session.js';
import { generateKeypair } from '../dist/src/wallet/keypair.js';

const NODES = 2_000;
const CONNECTIONS = 32;
const PIPELINE = 16;
const TARGET_PER_SECOND = { sqlite: 15_000, postgres: 10_000 };
const SECONDS = Number(process.argv[3] ?? 5);
const AUTH = process.env.BENCH_AUTH === 'signed' ? 'signed' : 'session';
const entry = new URL('../dist/src/coordinator/main-process.js', import.meta.url).pathname;

function startCoordinator(options) {
  const child = spawn(process.execPath, [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/hbprof'] : []), entry, JSON.stringify({ port: 0, dev: true, rateLimit: false, heartbeatGraceMs: 600_000, ...options })], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => resolve({ child, url: JSON.parse(line).url }));
    child.once('exit', (code) => reject(new Error(`coordinator exited ${code}`)));
  });
}

async function run(kind) {
  const { location, cleanup } = await createBenchDatabase(kind);
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
      if (AUTH === 'signed') {
        nodes.push({ id: node.id, sign: createSigner(keypair) });
        continue;
      }
      const ours = createSessionKeyPair();
      const opened = await client.openHeartbeatSession(node.id, ours.publicKey);
      const session = new HeartbeatSessionClient(opened.sessionId, deriveSessionKey(ours.privateKey, opened.publicKey, { sessionId: opened.sessionId, nodeId: node.id }), opened.expiresAt);
      nodes.push({ id: node.id, sign: (method, path, body) => session.headers(method, path, body) });
    }
    const { hostname, port } = new URL(url);
    const body = JSON.stringify({ gpus: Array.from({ length: 8 }, (_, i) => ({ uuid: `GPU-x-${i}`, utilization: 50, memoryUsedMb: 1000, temperatureC: 60 })), containers: [] });
    // Requests are signed before the clock starts and sent pipelined over raw keep-alive sockets, so the figure is the
    // server's ingest rate rather than this process's signing and HTTP-client cost (both share the machine's 2 cores).
    const total = Math.round(SECONDS * TARGET_PER_SECOND[kind] * 1.2);
    const requests = [];
    for (let i = 0; i < total; i++) {
      const node = nodes[i % nodes.length];
      const path = `/v1/nodes/${node.id}/heartbeat`;
      const headers = { host: `${hostname}:${port}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...node.sign('POST', path, body) };
      requests.push(Buffer.from(`POST ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`));
    }
    const { ok, failed, elapsed } = await blast(hostname, Number(port), requests, CONNECTIONS, PIPELINE);
    const rate = ok / elapsed;
    const target = TARGET_PER_SECOND[kind];
    console.log(`${kind} (${AUTH}): ${ok} heartbeats in ${elapsed.toFixed(2)} s = ${Math.round(rate)}/s (non-200: ${failed}); ${NODES} nodes, ${CONNECTIONS} connections x ${PIPELINE} pipelined`);
    console.log(`  target >= ${target}/s: ${rate >= target ? 'met' : 'NOT met'} (load generator shares this machine's cores)`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await cleanup();
  }
}

const which = process.argv[2] ?? 'both';
for (const kind of which === 'both' ? ['sqlite', 'postgres'] : [which]) await run(kind);

/** Send pre-built requests over `connections` sockets with up to `depth` in flight each; count status lines. */
function blast(host, port, requests, connections, depth) {
  let nextIndex = 0;
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  const one = () =>
    new Promise((resolve, reject) => {
      const socket = net.connect(port, host);
      socket.setNoDelay(true);
      let inFlight = 0;
      let carry = '';
      const fill = () => {
        const batch = [];
        while (inFlight < depth && nextIndex < requests.length) {
          batch.push(requests[nextIndex++]);
          inFlight++;
        }
        if (batch.length) socket.write(Buffer.concat(batch));
        else if (inFlight === 0) socket.end();
      };
      socket.on('connect', fill);
      socket.on('data', (chunk) => {
        const text = carry + chunk.toString('latin1');
        let at = 0;
        for (;;) {
          const found = text.indexOf('HTTP/1.1 ', at);
          if (found === -1 || found + 12 > text.length) break;
          if (text.startsWith('200', found + 9)) ok++;
          else failed++;
          inFlight--;
          at = found + 12;
        }
        carry = text.slice(at);
        fill();
      });
      socket.on('close', resolve);
      socket.on('error', reject);
    });
  return Promise.all(Array.from({ length: connections }, one)).then(() => ({ ok, failed, elapsed: (performance.now() - started) / 1000 }));
}
