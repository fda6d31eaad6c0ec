// Provider agent footprint: idle RSS and CPU of `iocli provide` (a child process, simulated GPUs, default 5 s heartbeat) over
// ~20 s, then assignment → container running latency with the image present. Needs `npm run build`, a Docker daemon and the
// test image iocli-test/busybox:latest (built by the integration tests). Usage: node bench/provider-footprint.mjs [--idle-s 20] [--leases 5]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCoordinator } from '../dist/src/coordinator/server.js';
import { createApiClient } from '../dist/src/api/client.js';
import { generateKeypair, writeKeypairFile } from '../dist/src/wallet/keypair.js';

const IMAGE = 'iocli-test/busybox:latest';
const BIN = fileURLToPath(new URL('../bin/iocli.js', import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const IDLE_S = arg('--idle-s', 20);
const LEASES = arg('--leases', 5);
const CLK_TCK = 100; // USER_HZ on Linux
const PAGE = 4096;

function docker(args) {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

try {
  docker(['image', 'inspect', '--format', '{{.Id}}', IMAGE]);
} catch {
  console.error(`Missing ${IMAGE}: run the provider integration tests once (they build it offline), then retry.`);
  process.exit(1);
}

/** utime+stime of the process itself, and of its waited-for children (the docker CLI calls it makes), in seconds; RSS in MB. */
function sample(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const own = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const children = (Number(fields[13]) + Number(fields[14])) / CLK_TCK;
  const rssMb = (Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE) / 1024 / 1024;
  return { at: performance.now(), own, children, rssMb };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const home = mkdtempSync(join(tmpdir(), 'iocli-bench-provider-'));
const coordinator = await startCoordinator({ port: 0, dev: true, rateLimit: false, dataDir: join(home, 'coordinator'), assignmentCacheMs: 0 });
const keypairPath = join(home, 'provider.json');
await writeKeypairFile(keypairPath, generateKeypair());
const renter = createApiClient({ baseUrl: coordinator.url, keypair: generateKeypair() });
let nodeId;
const children = [];

// Each later agent asks less, so quotes place leases on it rather than on an earlier, stopped one that still looks online.
function startAgent(intervalS, price) {
  const lines = [];
  const child = spawn(
    process.execPath,
    [BIN, 'provide', '--simulate-gpus', '2:RTX4090', '--price', String(price), '--region', 'local', '--yes', '--interval', String(intervalS), '--stop-timeout', '0',
      '--machine-id', `bench-${intervalS}`, '--data-dir', join(home, `provider-${intervalS}`), '--api-url', coordinator.url, '--keypair', keypairPath],
    { env: { ...process.env, NO_COLOR: '1', CI: '1', HOME: home, IOCLI_CONFIG_DIR: join(home, 'config') }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(child);
  let pending = '';
  child.stderr.on('data', (chunk) => {
    pending += String(chunk);
    const parts = pending.split('\n');
    pending = parts.pop();
    for (const text of parts) lines.push({ at: performance.now(), text });
  });
  return { child, lines };
}

async function waitFor(probe, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

try {
  // ---- idle footprint, default interval
  const idle = startAgent(5, 1);
  const registered = await waitFor(() => idle.lines.find((l) => /Registered as node (\S+)/.test(l.text)));
  nodeId = /Registered as node (\S+)/.exec(registered.text)[1];
  await new Promise((r) => setTimeout(r, 3000)); // past start-up work
  const first = sample(idle.child.pid);
  const rss = [first.rssMb];
  while (performance.now() - first.at < IDLE_S * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    rss.push(sample(idle.child.pid).rssMb);
  }
  const last = sample(idle.child.pid);
  const wall = (last.at - first.at) / 1000;
  const ownPct = ((last.own - first.own) / wall) * 100;
  const childPct = ((last.children - first.children) / wall) * 100;
  console.log(`idle agent over ${wall.toFixed(1)} s (5 s heartbeat, simulated GPUs):`);
  console.log(`  RSS: ${median(rss).toFixed(1)} MB median, ${Math.max(...rss).toFixed(1)} MB max (target < 80 MB)`);
  console.log(`  CPU: ${ownPct.toFixed(2)} % of one core for the agent process; ${(ownPct + childPct).toFixed(2)} % including the docker CLI calls it makes (target < 1 %)`);

  // ---- assignment → running latency, at the default and at a 1 s interval
  for (const intervalS of [5, 1]) {
    const agent = intervalS === 5 ? idle : startAgent(intervalS, 0.5);
    if (agent !== idle) {
      await waitFor(() => agent.lines.find((l) => /Registered as node/.test(l.text))).catch((error) => {
        console.error(agent.lines.map((l) => l.text).join('\n'));
        throw error;
      });
    }
    if (agent !== idle) idle.child.kill('SIGTERM');
    const toRunning = [];
    const assignToRunning = [];
    const agentMs = [];
    for (let i = 0; i < LEASES; i++) {
      const quote = await renter.quote({ gpus: 1, image: IMAGE, command: ['sleep', '600'] });
      const t0 = performance.now();
      const lease = await renter.createLease({ quoteId: quote.quoteId });
      await waitFor(() => {
        try {
          return docker(['ps', '-q', '--filter', `label=iocli.lease=${lease.id}`, '--filter', 'status=running']) !== '';
        } catch {
          return false;
        }
      });
      const running = performance.now();
      const assigned = await waitFor(() => agent.lines.find((l) => l.text.includes(`Lease ${lease.id} assigned`)));
      const started = await waitFor(() => agent.lines.find((l) => l.text.includes(`Lease ${lease.id} running:`)));
      toRunning.push(running - t0);
      assignToRunning.push(running - assigned.at);
      agentMs.push(Number(/started in (\d+) ms/.exec(started.text)[1]));
      await renter.stopLease(lease.id);
      await waitFor(() => docker(['ps', '-aq', '--filter', `label=iocli.lease=${lease.id}`]) === '');
      // The agent removes the lease's network right after its container: let it finish before the next agent kill.
      await waitFor(() => docker(['network', 'ls', '-q', '--filter', `label=iocli.lease=${lease.id}`]) === '');
    }
    console.log(`latency, ${LEASES} leases, image present, ${intervalS} s heartbeat:`);
    console.log(`  assignment received → container running: median ${median(assignToRunning).toFixed(0)} ms, max ${Math.max(...assignToRunning).toFixed(0)} ms (agent's own docker run: median ${median(agentMs)} ms)`);
    console.log(`  lease created → container running:       median ${median(toRunning).toFixed(0)} ms, max ${Math.max(...toRunning).toFixed(0)} ms (the agent long-polls for assignment changes)`);
  }
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  if (nodeId) {
    try {
      const ids = docker(['ps', '-aq', '--filter', 'label=iocli.managed=true', '--filter', `label=iocli.node=${nodeId}`]).split('\n').filter(Boolean);
      if (ids.length) docker(['rm', '-f', ...ids]);
    } catch {
      // best effort
    }
  }
  await coordinator.close();
  rmSync(home, { recursive: true, force: true });
}
