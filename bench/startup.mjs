// Cold-start cost of the iocli binary, side by side with bare `node -e 0` (median of N fresh processes each).
// Targets (DESIGN.md): --version and --help within 1.5x of bare node; `config list` within 2x.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.env.RUNS ?? 10);
const bin = fileURLToPath(new URL('../bin/iocli.js', import.meta.url));
const configDir = mkdtempSync(join(tmpdir(), 'iocli-bench-'));
const env = { ...process.env, IOCLI_CONFIG_DIR: configDir, NO_COLOR: '1' };

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function time(args) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const cases = [
  ['node -e 0', ['-e', '0']],
  ['iocli --version', [bin, '--version']],
  ['iocli --help', [bin, '--help']],
  ['iocli config list', [bin, 'config', 'list']],
];
const samples = new Map(cases.map(([name]) => [name, []]));
// Interleave the cases so background load affects them equally.
for (let i = 0; i < runs; i++) for (const [name, args] of cases) samples.get(name).push(time(args));

const base = median(samples.get('node -e 0'));
const targets = { 'iocli --version': 1.5, 'iocli --help': 1.5, 'iocli config list': 2 };
console.log(`cold start, median of ${runs} runs each`);
for (const [name] of cases) {
  const ms = median(samples.get(name));
  const ratio = ms / base;
  const target = targets[name];
  console.log(`${name.padEnd(20)} ${ms.toFixed(1).padStart(7)} ms  ${ratio.toFixed(2)}x${target ? `  (target ≤ ${target}x: ${ratio <= target ? 'met' : 'MISSED'})` : ''}`);
}
rmSync(configDir, { recursive: true, force: true });
