// Relay figures (DESIGN.md, Performance targets):
//  1. 100 MB downloaded over HTTP from a server in a lease container through `iocli lease port-forward` vs the same
//     bytes through a plain two-hop loopback TCP proxy in Node (two processes, one pipe() each: the floor for a relay of
//     this shape). Target: at least half its throughput.
//  2. `iocli lease exec ID -- true` round trip (the spawned binary, wall time) vs `docker exec CT true` on the provider.
//     Target: within 100 ms (medians).
// The coordinator (`iocli coordinator start --dev`, SQLite) and the agent (`iocli provide --simulate-gpus`) run as their
// own processes. Needs `npm run build`, Docker and iocli-test/busybox:latest (built by the integration tests).
// Usage: node bench/relay.mjs [--mb 100] [--runs 3] [--execs 15]   (BENCH_CPU_PROF=DIR: CPU profiles of the iocli processes)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { createApiClient } from '../dist/src/api/client.js';
import { execInLease } from '../dist/src/renter/relay-client.js';
import { generateKeypair, writeKeypairFile } from '../dist/src/wallet/keypair.js';

const IMAGE = 'iocli-test/busybox:latest';
const BIN = fileURLToPath(new URL('../bin/iocli.js', import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MB = arg('--mb', 100);
const RUNS = arg('--runs', 3);
const EXECS = arg('--execs', 15);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
function run(command, args, env) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${command} ${args.join(' ')} → ${code}: ${stderr}`))));
  });
}
/** Downloads `path` from host:port (127.0.0.1 unless given); resolves with MB/s. */
function download(port, path, expectBytes, host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let bytes = 0;
    get({ host, port, path, agent: false }, (res) => {
      res.on('data', (c) => (bytes += c.length));
      // A cut connection (no 'end') fails the run instead of hanging it.
      res.on('close', () => res.complete || reject(new Error(`download from ${host}:${port} cut after ${bytes} bytes`)));
      res.on('end', () => {
        if (bytes !== expectBytes) return reject(new Error(`got ${bytes} bytes, expected ${expectBytes}`));
        resolve(bytes / 1e6 / ((performance.now() - started) / 1000));
      });
    }).on('error', reject);
  });
}
const PROXY = `
const net = require('node:net');
const [listen, target, targetHost] = process.argv.slice(1);
net.createServer((c) => { const u = net.connect(Number(target), targetHost); c.pipe(u); u.pipe(c); c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); })
  .listen(Number(listen), '127.0.0.1', () => process.stdout.write('ready\\n'));`;
function startProxy(listen, target, targetHost = '127.0.0.1') {
  const child = spawn(process.execPath, ['-e', PROXY, String(listen), String(target), targetHost], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => child.stdout.once('data', () => resolve(child)));
}

const dir = mkdtempSync(join(tmpdir(), 'iocli-bench-relay-'));
const children = [];
let leaseContainer;
let nodeId;
const cleanup = () => {
  for (const child of children) child.kill('SIGKILL');
  if (nodeId) {
    const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=iocli.node=${nodeId}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
    if (ids.length) execFileSync('docker', ['rm', '-f', ...ids]);
    // The agent is killed, so it never removes the lease's network: left behind, they exhaust Docker's address pools.
    const nets = execFileSync('docker', ['network', 'ls', '-q', '--filter', `label=iocli.node=${nodeId}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
    if (nets.length) execFileSync('docker', ['network', 'rm', ...nets]);
  }
  rmSync(dir, { recursive: true, force: true });
};
try {
  const apiPort = await freePort();
  const url = `http://127.0.0.1:${apiPort}`;
  const renter = generateKeypair();
  await writeKeypairFile(join(dir, 'renter.json'), renter);
  await writeKeypairFile(join(dir, 'provider.json'), generateKeypair());
  const env = { HOME: dir, IOCLI_CONFIG_DIR: join(dir, 'config'), IOCLI_API_URL: url, IOCLI_KEYPAIR: join(dir, 'renter.json'), NO_COLOR: '1', CI: '1' };
  const spawnCli = (args) => {
    const child = spawn(process.execPath, [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []), BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    children.push(child);
    return child;
  };
  spawnCli(['coordinator', 'start', '--dev', '--port', String(apiPort), '--data-dir', join(dir, 'coordinator')]);
  await until('the coordinator', async () => (await fetch(`${url}/healthz`)).ok);
  spawnCli(['provide', '--simulate-gpus', '1:RTX4090', '--data-dir', join(dir, 'provider'), '--machine-id', `bench-relay-${process.pid}`, '--keypair', join(dir, 'provider.json'), '--no-verify', '--drain-timeout', '0', '--yes']);
  const api = createApiClient({ baseUrl: url, keypair: renter });
  const httpPort = await freePort();
  const bytes = MB * 1_000_000;
  const script = `mkdir -p /tmp/www && head -c ${bytes} /dev/zero > /tmp/www/blob && exec httpd -f -p ${httpPort} -h /tmp/www`;
  const quote = await until('an offer', () => api.quote({ gpus: 1, image: IMAGE, command: ['sh', '-c', script], ports: [httpPort] }));
  const lease = await api.createLease({ quoteId: quote.quoteId });
  await until('the lease running', async () => (await api.lease(lease.id)).state === 'running');
  nodeId = (await api.lease(lease.id)).allocations[0].nodeId;
  leaseContainer = execFileSync('docker', ['ps', '-q', '--filter', `label=iocli.lease=${lease.id}`], { encoding: 'utf8' }).trim();
  // A lease has its own Docker network: the agent (and so the floor's second hop) reaches it at its address there.
  const leaseAddress = execFileSync('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', leaseContainer], { encoding: 'utf8' }).trim();
  await until('the HTTP server in the lease', () => download(httpPort, '/blob', bytes, leaseAddress).then(() => true));

  // 1. Throughput.
  const p1 = await freePort();
  const p2 = await freePort();
  const proxyB = await startProxy(p2, httpPort, leaseAddress);
  const proxyA = await startProxy(p1, p2);
  children.push(proxyA, proxyB);
  const forwardPort = await freePort();
  const forward = spawnCli(['lease', 'port-forward', lease.id, `${forwardPort}:${httpPort}`]);
  await until('port-forward listening', () => new Promise((resolve) => connect(forwardPort, '127.0.0.1').once('connect', function () { this.destroy(); resolve(true); }).once('error', () => resolve(false))));
  const direct = [];
  const proxied = [];
  const relayed = [];
  for (let i = 0; i < RUNS; i++) {
    direct.push(await download(httpPort, '/blob', bytes, leaseAddress));
    proxied.push(await download(p1, '/blob', bytes));
    relayed.push(await download(forwardPort, '/blob', bytes));
  }
  forward.kill('SIGINT');
  const floor = median(proxied);
  const relay = median(relayed);
  console.log(`port-forward, ${MB} MB over HTTP, median of ${RUNS} (MB/s):`);
  console.log(`  direct to the container's port       ${median(direct).toFixed(0)}`);
  console.log(`  plain two-hop Node TCP proxy (floor)   ${floor.toFixed(0)}`);
  console.log(`  iocli lease port-forward (relay)       ${relay.toFixed(0)}   → ${(relay / floor).toFixed(2)}× the floor (target ≥ 0.5×)`);

  // 2. exec round trip.
  const execTimes = [];
  const dockerTimes = [];
  await run(process.execPath, [BIN, 'lease', 'exec', lease.id, '--', 'true'], env);
  await run('docker', ['exec', leaseContainer, 'true']);
  for (let i = 0; i < EXECS; i++) {
    dockerTimes.push(await run('docker', ['exec', leaseContainer, 'true']));
    execTimes.push(await run(process.execPath, [BIN, 'lease', 'exec', lease.id, '--', 'true'], env));
  }
  const showTimes = [];
  for (let i = 0; i < 5; i++) showTimes.push(await run(process.execPath, [BIN, 'lease', 'show', lease.id, '--json'], env));
  const versionTimes = [];
  for (let i = 0; i < 5; i++) versionTimes.push(await run(process.execPath, [BIN, '--version'], env));
  console.log(`  (for scale: iocli --version ${median(versionTimes).toFixed(0)} ms, iocli lease show ID ${median(showTimes).toFixed(0)} ms)`);
  // The relay's own share: the same exec from this process (no CLI start-up), through coordinator and agent.
  const sink = () => new Writable({ write: (_chunk, _encoding, done) => done() });
  const relayTimes = [];
  for (let i = 0; i < EXECS; i++) {
    const started = performance.now();
    await execInLease({ apiUrl: url, keypair: renter, leaseId: lease.id, command: ['true'], tty: false, stdout: sink(), stderr: sink() });
    relayTimes.push(performance.now() - started);
  }
  console.log(`  (relay round trip without CLI start-up: ${median(relayTimes).toFixed(0)} ms)`);
  const dockerMs = median(dockerTimes);
  const execMs = median(execTimes);
  console.log(`exec round trip, median of ${EXECS} (ms):`);
  console.log(`  docker exec CT true on the provider    ${dockerMs.toFixed(0)}`);
  console.log(`  iocli lease exec ID -- true            ${execMs.toFixed(0)}   → +${(execMs - dockerMs).toFixed(0)} ms (target ≤ +100 ms)`);
} finally {
  if (process.env.BENCH_CPU_PROF) {
    for (const child of children) child.kill('SIGTERM');
    await sleep(6_000);
  }
  cleanup();
}
process.exit(0);
