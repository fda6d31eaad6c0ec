// argv → typed options for every verb, through the real commander program (buildProgram) and each verb's parse,
// without running anything: no network, no Docker, no files. One table: flags, defaults, environment, and the
// refusals (exit 2, the same code the binary exits with: reportError maps them).
import { describe, expect, it } from 'vitest';
import { reportError } from '../../commands/errors.js';
import { buildProgram, loadNoun, type Invoke } from '../../commands/program.js';
import { NOUNS } from '../../commands/registry.js';
import { Sink } from '../support/sink.js';

type Env = Record<string, string | undefined>;
const ENV: Env = { HOME: '/home/t', XDG_DATA_HOME: '/xdg' };
const PROVIDER_DIR = '/xdg/iocli/provider';
const NETWORK_DIR = '/xdg/iocli/network';
const KEY = '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin';

/** The verb commander picked for `argv` and the options its parse made, or the exit code a refusal gives. */
async function parseArgv(argv: string[], env: Env = ENV): Promise<{ path?: string; options?: unknown; exitCode?: number; error?: string }> {
  let parsed: { path: string; options: unknown } | undefined;
  const invoke: Invoke = async (spec, given) => {
    parsed = { path: spec.path, options: spec.parse({ ...given, env }) };
  };
  try {
    const program = buildProgram('0.0.0-test', invoke, { writeOut: () => {}, writeErr: () => {} }, await loadNoun(argv));
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    const sink = new Sink();
    return { exitCode: reportError(error, { json: false, stdout: sink as never, stderr: sink as never, env: { NO_COLOR: '1' }, argv }), error: sink.text };
  }
  return parsed!;
}

const rentDefaults = {
  request: { gpus: 1, model: undefined, minVram: undefined, region: undefined, hours: 1, multiNode: false, image: undefined, env: {}, ports: [] },
  maxPriceText: undefined,
  dryRun: false,
  timeoutMs: 300_000,
  follow: false,
  followIntervalMs: 1000,
};
const provideDefaults = { preflightOnly: false, intervalMs: 5000, stopTimeoutSec: 10, drainTimeoutMs: Number.POSITIVE_INFINITY, dataDir: PROVIDER_DIR, stopWorkloads: false, shipLogs: true, verify: true };

// [argv, expected path, expected options, env]
const ACCEPTED: Array<[string, string, unknown, Env?]> = [
  ['demo', 'demo', { keep: false, gpus: 8, seconds: 8 }],
  ['demo --gpus 4 --seconds 20 --keep', 'demo', { keep: true, gpus: 4, seconds: 20 }],
  ['gpus', 'gpus', {}],
  ['wallet new', 'wallet new', { force: false }],
  ['wallet new -o ./r.json --force', 'wallet new', { outfile: './r.json', force: true }],
  ['wallet import - --outfile k.json', 'wallet import', { source: '-', outfile: 'k.json', force: false }],
  ['wallet show', 'wallet show', {}],
  ['wallet balance', 'wallet balance', {}],
  [`wallet balance ${KEY}`, 'wallet balance', { address: KEY }],
  ['wallet airdrop', 'wallet airdrop', { sol: 2 }],
  [`wallet airdrop ${KEY} --sol 0.5 --tokens 100`, 'wallet airdrop', { address: KEY, sol: 0.5, tokens: '100' }],
  ['config get api-url', 'config get', { key: expect.objectContaining({ name: 'api-url', scope: 'profile' }) }],
  ['config set rpc-url localhost', 'config set', { key: expect.objectContaining({ name: 'rpc-url' }), value: expect.stringMatching(/^http:\/\/127\.0\.0\.1:8899\/?$/) }],
  ['config list', 'config list', {}],
  ['config reset', 'config reset', {}],
  ['config reset region', 'config reset', { key: expect.objectContaining({ name: 'region' }) }],
  ['offers', 'offers', { query: { model: undefined, minVram: undefined, gpus: undefined, region: undefined, sort: 'price', limit: undefined }, maxPriceText: undefined }],
  [
    'offers --model H100 --min-vram 80 --gpus 8 --max-price 2.5 --region eu --sort reliability --limit 5',
    'offers',
    { query: { model: 'H100', minVram: 80_000, gpus: 8, region: 'eu', sort: 'reliability', limit: 5 }, maxPriceText: '2.5' },
  ],
  ['rent', 'rent', rentDefaults],
  [
    'rent --gpus 2 --model 4090 --image busybox:1 --cmd "sh -c true" --env A=1 --env B=2 --port 8888 --port 22 --hours 3 --max-price 1.5 --multi-node --read-only-root --user 1000:1000 --no-egress --dry-run --timeout 0 --idempotency-key retry-key-1 --follow --interval 250',
    'rent',
    {
      request: {
        gpus: 2, model: '4090', minVram: undefined, region: undefined, hours: 3, multiNode: true, image: 'busybox:1', command: ['sh', '-c', 'true'],
        env: { A: '1', B: '2' }, ports: [22, 8888], readOnlyRoot: true, user: { uid: 1000, gid: 1000 }, egress: false,
      },
      maxPriceText: '1.5',
      dryRun: true,
      timeoutMs: 0,
      idempotencyKey: 'retry-key-1',
      follow: true,
      followIntervalMs: 250,
    },
  ],
  ['leases', 'leases', { all: false }],
  ['leases -a', 'leases', { all: true }],
  ['lease show lease_1', 'lease show', { leaseId: 'lease_1' }],
  ['lease logs lease_1', 'lease logs', { leaseId: 'lease_1', follow: false, raw: false, intervalMs: 1000 }],
  ['lease logs lease_1 -f -n 50 --raw --interval 200', 'lease logs', { leaseId: 'lease_1', follow: true, tail: 50, raw: true, intervalMs: 200 }],
  ['lease extend lease_1', 'lease extend', { leaseId: 'lease_1', dryRun: false }],
  ['lease extend lease_1 --hours 2 --dry-run --idempotency-key k-1234567', 'lease extend', { leaseId: 'lease_1', hours: 2, dryRun: true, idempotencyKey: 'k-1234567' }],
  ['lease stop lease_1', 'lease stop', { leaseId: 'lease_1' }],
  ['lease exec lease_1 -- ls -l /', 'lease exec', { leaseId: 'lease_1', command: ['ls', '-l', '/'], stdin: false, tty: false }],
  ['lease exec -it --node node_2 lease_1 -- python', 'lease exec', { leaseId: 'lease_1', command: ['python'], stdin: true, tty: true, node: 'node_2' }],
  ['lease shell lease_1 --node node_2', 'lease shell', { leaseId: 'lease_1', node: 'node_2' }],
  ['lease port-forward lease_1 8888:8888 6006 0:80', 'lease port-forward', { leaseId: 'lease_1', pairs: [{ local: 8888, remote: 8888 }, { local: 6006, remote: 6006 }, { local: 0, remote: 80 }], address: '127.0.0.1', leaseCheckMs: 5000 }],
  ['lease port-forward lease_1 80 --address 0.0.0.0 --lease-check 100', 'lease port-forward', { leaseId: 'lease_1', pairs: [{ local: 80, remote: 80 }], address: '0.0.0.0', leaseCheckMs: 100 }],
  ['lease connect lease_1 22', 'lease connect', { leaseId: 'lease_1', port: 22 }],
  ['lease cp ./data lease_1:/workspace', 'lease cp', { endpoints: { direction: 'upload', leaseId: 'lease_1', localPath: './data', remotePath: '/workspace' }, progress: true }],
  ['lease cp lease_1:/out ./res --no-progress --node n2', 'lease cp', { endpoints: { direction: 'download', leaseId: 'lease_1', localPath: './res', remotePath: '/out' }, node: 'n2', progress: false }],
  ['lease ssh-config lease_1', 'lease ssh-config', { leaseId: 'lease_1', port: 22, user: 'root' }],
  ['lease ssh-config lease_1 --user ubuntu --port 2222 --host box', 'lease ssh-config', { leaseId: 'lease_1', port: 2222, user: 'ubuntu', host: 'box' }],
  ['rewards', 'rewards', {}],
  ['rewards claim', 'rewards claim', {}],
  ['rewards claim --idempotency-key claim-key-1', 'rewards claim', { idempotencyKey: 'claim-key-1' }],
  ['provide', 'provide', provideDefaults],
  ['provide', 'provide', { ...provideDefaults, dataDir: '/env/provider' }, { IOCLI_PROVIDER_DIR: '/env/provider' }],
  [
    'provide --preflight --gpus 0,1 --price 2.5 --region eu-west --simulate-gpus 8:H100 --interval 1 --machine-id m1 --data-dir /d --stop-workloads --stop-timeout 2 --drain-timeout 0 --public-host h.example --no-logs --no-verify',
    'provide',
    {
      preflightOnly: true, selection: [0, 1], pricePerGpuHour: 2_500_000, region: 'eu-west', simulate: { count: 8, model: expect.objectContaining({ id: 'H100-SXM-80GB' }) },
      intervalMs: 1000, stopTimeoutSec: 2, drainTimeoutMs: 0, machineId: 'm1', dataDir: '/d', stopWorkloads: true, publicHost: 'h.example', shipLogs: false, verify: false,
    },
  ],
  ['provide status', 'provide status', { dataDir: PROVIDER_DIR }],
  // --data-dir after the verb: commander hands it to `provide`, which declares it too; the verb takes it back.
  ['provide status --data-dir /d', 'provide status', { dataDir: '/d' }],
  ['provide logs', 'provide logs', { follow: false, tail: 200, dataDir: PROVIDER_DIR }],
  ['provide logs --lease lease_1 -f --tail 5 --data-dir /d', 'provide logs', { lease: 'lease_1', follow: true, tail: 5, dataDir: '/d' }],
  ['provide install-service --user --output ./u.service --gpus all --no-logs', 'provide install-service', expect.objectContaining({ user: true, output: './u.service', gpus: 'all', logs: false })],
  ['provide why', 'provide why', { dataDir: PROVIDER_DIR }],
  ['provide why --node node_1', 'provide why', { dataDir: PROVIDER_DIR, node: 'node_1' }],
  ['provide bond', 'provide bond', { dataDir: PROVIDER_DIR }],
  ['provide bond --gpus 0,1 --node node_1 --data-dir /d', 'provide bond', { dataDir: '/d', node: 'node_1', gpus: '0,1' }],
  ['provide unbond --gpus 3', 'provide unbond', { dataDir: PROVIDER_DIR, gpus: '3' }],
  ['provide kernel-image', 'provide kernel-image', { image: 'ghcr.io/iocli/challenge-kernel:0.1.0', build: false }],
  ['provide kernel-image', 'provide kernel-image', { image: 'registry.example/k:2', build: false }, { IOCLI_CHALLENGE_IMAGE: 'registry.example/k:2' }],
  ['provide kernel-image --image k:3 --build --context /ctx', 'provide kernel-image', { image: 'k:3', build: true, context: '/ctx' }],
  ['network up', 'network up', { dataDir: NETWORK_DIR, port: 8787, rpcPort: 8899, detach: false, commitment: 'instant', corsOrigins: [] }],
  ['network up', 'network up', { dataDir: '/env/net', port: 8787, rpcPort: 8899, detach: false, commitment: 'instant', corsOrigins: [] }, { IOCLI_DATA_DIR: '/env/net' }],
  [
    'network up --data-dir /n --port 0 --rpc-port 0 --detach --commitment realistic --cors-origin https://a.example --cors-origin *',
    'network up',
    { dataDir: '/n', port: 0, rpcPort: 0, detach: true, commitment: 'realistic', corsOrigins: ['https://a.example', '*'] },
  ],
  ['network down --data-dir /n', 'network down', { dataDir: '/n' }],
  ['network status', 'network status', { dataDir: NETWORK_DIR }],
  ['coordinator start', 'coordinator start', { port: 8080, host: '127.0.0.1', dev: false }],
  ['coordinator start', 'coordinator start', { port: 8080, host: '127.0.0.1', dev: false, databaseUrl: 'postgres://db/x', dataDir: undefined }, { DATABASE_URL: 'postgres://db/x' }],
  [
    'coordinator start --port 0 --host 0.0.0.0 --data-dir /c --dev --fee-bps 500 --heartbeat-grace 30 --trusted-proxies 10.0.0.1,10.0.0.0/8 --replica-url http://r:1',
    'coordinator start',
    { port: 0, host: '0.0.0.0', dataDir: '/c', dev: true, feeBps: 500, heartbeatGrace: 30, trustedProxies: ['10.0.0.1', '10.0.0.0/8'], replicaUrl: 'http://r:1' },
  ],
];

// [argv, what the error says]: each exits 2 before anything runs.
const REFUSED: Array<[string, RegExp, Env?]> = [
  ['demo --gpus 17', /--gpus/],
  ['provide kernel-image --image UPPER/Case', /image/i],
  ['demo --seconds 0', /--seconds/],
  ['wallet balance not-an-address', /not a Solana address/],
  ['wallet airdrop --sol 5000', /--sol/],
  ['config get no-such-key', /Unknown setting/],
  ['config set price-per-gpu-hour abc', /price/i],
  ['offers --min-vram lots', /--min-vram/],
  ['offers --gpus 0', /--gpus/],
  ['offers --sort cheapest', /cheapest|--sort/],
  ['rent --hours 0', /--hours/],
  ['rent --image "bad image"', /--image/],
  ['rent --cmd " "', /--cmd is empty/],
  ['rent --env 1=2', /--env/],
  ['rent --port 70000', /--port/],
  ['rent --user 0:0', /--user/],
  ['rent --timeout soon', /--timeout/],
  ['rent --idempotency-key x', /idempotency/i],
  ['rent --no-such-flag', /unknown option/i],
  ['lease show "bad id!"', /Invalid lease id/],
  ['lease logs lease_1 --tail 0', /--tail/],
  ['lease logs lease_1 --raw --json', /--raw and --json/],
  ['lease extend lease_1 --hours 721', /--hours/],
  ['lease exec lease_1', /missing required argument|command/i],
  ['lease port-forward lease_1 99999', /Invalid port pair/],
  ['lease port-forward lease_1 80 --address "a b"', /--address/],
  ['lease connect lease_1 0', /Invalid port/],
  ['lease cp ./a ./b', /ID:\/path/],
  ['lease ssh-config lease_1 --port 0', /--port/],
  ['lease ssh-config lease_1 --user "r;m"', /--user/],
  ['rewards claim --idempotency-key "a b"', /idempotency/i],
  ['provide --interval 0', /--interval/],
  ['provide --stop-timeout 9999', /--stop-timeout/],
  ['provide --drain-timeout soon', /--drain-timeout/],
  ['provide --price free', /--price/],
  ['provide --region "EU WEST"', /region/i],
  ['provide --simulate-gpus many', /--simulate-gpus/],
  ['provide logs --tail -1', /--tail/],
  ['provide logs --json', /--json is not supported/],
  ['provide install-service --price free', /--price/],
  ['network up --port 70000', /--port/],
  ['network up --commitment fast', /fast|--commitment/],
  ['network up --cors-origin https://a.example/path', /--cors-origin/],
  ['coordinator start --fee-bps -1', /--fee-bps/],
  ['coordinator start --rpc-url devnet', /all three/],
  ['nosuchnoun', /unknown command/i],
];

/** Splits like a shell for these rows: double quotes group words. */
function argvOf(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

describe('argv → typed options (nothing runs)', () => {
  it.each(ACCEPTED)('iocli %s', async (line, path, options, env) => {
    const parsed = await parseArgv(argvOf(line), { ...ENV, ...env });
    expect(parsed.error).toBeUndefined();
    expect(parsed.path).toBe(path);
    expect(parsed.options).toEqual(options);
  });

  it.each(REFUSED)('iocli %s exits 2', async (line, message, env) => {
    const parsed = await parseArgv(argvOf(line), { ...ENV, ...env });
    expect(parsed.exitCode, JSON.stringify(parsed)).toBe(2);
    expect(parsed.error).toMatch(message);
  });

  it('covers every verb iocli has', async () => {
    const paths = (await Promise.all(Object.values(NOUNS).map((entry) => entry.load()))).flat().map((spec) => spec.path);
    const covered = new Set(ACCEPTED.map(([, path]) => path));
    expect(paths.filter((path) => !covered.has(path))).toEqual([]);
  });
});
