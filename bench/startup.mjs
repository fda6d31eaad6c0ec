// Cold-start cost of the iocli binary, side by side with bare `node -e 0` (median of N fresh processes each).
// Targets (DESIGN.md): --version and --help within 1.5x of bare node; `config list` within 2x; the networked reads
// `offers`, `leases` and `wallet balance` within 2x against a local network on loopback, which this script starts
// (random ports, its own data directory) and stops. Other work on the machine slows the cases more than bare node: the
// load average printed with the figures says how much there was.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.env.RUNS ?? 10);
const bin = fileURLToPath(new URL('../bin/iocli.js', import.meta.url));
const configDir = mkdtempSync(join(tmpdir(), 'iocli-bench-'));
const dataDir = join(configDir, 'network');
const env = { ...process.env, IOCLI_CONFIG_DIR: configDir, IOCLI_PROFILE: 'local', NO_COLOR: '1' };
delete env.IOCLI_API_URL;
delete env.IOCLI_RPC_URL;
delete env.IOCLI_KEYPAIR;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function iocli(args, extraEnv = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`iocli ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

function time(args, caseEnv) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env: caseEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

// A local network with a funded wallet, so `leases` (signed) and `wallet balance` (RPC + token) do their real work.
const loadBefore = loadavg()[0];
const up = JSON.parse(iocli(['--json', 'network', 'up', '--detach', '--data-dir', dataDir, '--port', '0', '--rpc-port', '0']));
try {
  const netEnv = { ...env, IOCLI_API_URL: up.apiUrl, IOCLI_RPC_URL: up.rpcUrl };
  iocli(['--json', 'wallet', 'new'], netEnv);
  iocli(['--json', 'wallet', 'airdrop', '--sol', '1', '--tokens', '10'], netEnv);

  const cases = [
    ['node -e 0', ['-e', '0'], env],
    ['iocli --version', [bin, '--version'], env],
    ['iocli --help', [bin, '--help'], env],
    ['iocli config list', [bin, 'config', 'list'], env],
    ['iocli offers', [bin, 'offers'], netEnv],
    ['iocli leases', [bin, 'leases'], netEnv],
    ['iocli wallet balance', [bin, 'wallet', 'balance'], netEnv],
  ];
  const samples = new Map(cases.map(([name]) => [name, []]));
  // Interleave the cases so background load affects them equally.
  for (let i = 0; i < runs; i++) for (const [name, args, caseEnv] of cases) samples.get(name).push(time(args, caseEnv));

  const loadNow = loadavg()[0];
  const base = median(samples.get('node -e 0'));
  const targets = { 'iocli --version': 1.5, 'iocli --help': 1.5, 'iocli config list': 2, 'iocli offers': 2, 'iocli leases': 2, 'iocli wallet balance': 2 };
  console.log(`cold start, median of ${runs} runs each (networked reads against ${up.apiUrl}; load average ${loadBefore.toFixed(1)} → ${loadNow.toFixed(1)} on ${cpus().length} cores)`);
  for (const [name] of cases) {
    const ms = median(samples.get(name));
    const ratio = ms / base;
    const target = targets[name];
    console.log(`${name.padEnd(22)} ${ms.toFixed(1).padStart(7)} ms  ${ratio.toFixed(2)}x${target ? `  (target ≤ ${target}x: ${ratio <= target ? 'met' : 'MISSED'})` : ''}`);
  }
} finally {
  spawnSync(process.execPath, [bin, 'network', 'down', '--data-dir', dataDir], { env, stdio: 'ignore' });
  rmSync(configDir, { recursive: true, force: true });
}
