// The renter and rewards commands in-process against a real dev-mode coordinator (SQLite on 127.0.0.1:0),
// with a simulated provider node whose side (heartbeats reporting the container running, log lines) this test plays.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, type GlobalOptions } from '../../commands/context.js';
import { reportError } from '../../commands/errors.js';
import { leases as leasesSpec } from '../../commands/leases.js';
import { leaseExtend } from '../../commands/lease/extend.js';
import { leaseLogs } from '../../commands/lease/logs.js';
import { leaseShow } from '../../commands/lease/show.js';
import { leaseStop } from '../../commands/lease/stop.js';
import { offers as offersSpec } from '../../commands/offers.js';
import { rent } from '../../commands/rent.js';
import { rewardsClaim } from '../../commands/rewards/claim.js';
import { rewardsShow } from '../../commands/rewards/show.js';
import type { CommandSpec } from '../../commands/spec.js';
import type { ApiClient } from '../../src/api/client.js';
import { generateKeypair, writeKeypairFile } from '../../src/wallet/keypair.js';
import { nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';
import { Sink } from '../support/sink.js';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  json: any;
}

let coordinator: TestCoordinator;
let home: string;
let renterKeyPath: string;
let provider: ApiClient;
let nodeId: string;
let stopProvider: () => Promise<void>;
const renter = generateKeypair();
const providerKeys = generateKeypair();
const RENT_DEFAULTS = { gpus: '1', env: [], port: [], hours: '1', timeout: '20' };

/** Run one command the way main.ts does (context, run, render, error → exit code), with captured streams. */
async function run(spec: CommandSpec, args: string[], options: Record<string, unknown>, globals: Partial<GlobalOptions> = {}, now?: () => number): Promise<Outcome> {
  const stdout = new Sink();
  const stderr = new Sink();
  const json = globals.json ?? true;
  const env = { HOME: home, IOCLI_CONFIG_DIR: join(home, 'config'), IOCLI_API_URL: coordinator.url, IOCLI_KEYPAIR: renterKeyPath, NO_COLOR: '1' };
  const ctx = createContext(
    { json, yes: false, quiet: false, color: false, ...globals },
    { stdout: stdout as never, stderr: stderr as never, stdinIsTTY: false, env, signal: new AbortController().signal, now },
  );
  let code = 0;
  try {
    const result = await spec.run(spec.parse({ args, flags: options, globals: { json, ...globals }, env }), ctx);
    if (result) await ctx.out.result(result);
  } catch (error) {
    code = reportError(error, { json, stdout: stdout as never, stderr: stderr as never, env, argv: [] });
  }
  let parsed: unknown;
  try {
    parsed = stdout.text ? JSON.parse(stdout.text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { code, stdout: stdout.text, stderr: stderr.text, json: parsed };
}

/** The node's agent, minus Docker: every assignment it is given is reported running, with one log line. */
function simulateProvider(client: ApiClient, id: string): () => Promise<void> {
  let stopped = false;
  const logged = new Set<string>();
  const loop = (async () => {
    let running: string[] = [];
    while (!stopped) {
      const response = await client
        .heartbeat(id, {
          containers: running.map((leaseId) => ({ leaseId, state: 'running' as const })),
          logs: running.filter((l) => !logged.has(l)).map((leaseId) => ({ leaseId, stream: 'stdout' as const, data: `hello from ${leaseId}\n` })),
        })
        .catch(() => ({ assignments: [] }));
      for (const l of running) logged.add(l);
      running = response.assignments.map((a) => a.leaseId);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'iocli-renter-'));
  renterKeyPath = join(home, 'renter.json');
  await writeKeypairFile(renterKeyPath, renter);
  coordinator = await startTestCoordinator('sqlite', { heartbeatFlushMs: 50 });
  provider = coordinator.client(providerKeys);
  const node = await provider.registerNode(nodeSpec({ gpuCount: 2, model: 'NVIDIA H100 80GB HBM3', pricePerGpuHour: 2_000_000, region: 'eu-west' }));
  nodeId = node.id;
  stopProvider = simulateProvider(provider, nodeId);
});

afterAll(async () => {
  await stopProvider?.();
  await coordinator?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('iocli offers', () => {
  it('lists the node as JSON with prices in base units', async () => {
    const out = await run(offersSpec, [], { sort: 'price' });
    expect(out.code).toBe(0);
    expect(out.json.offers).toEqual([expect.objectContaining({ nodeId, freeGpus: 2, pricePerGpuHour: 2_000_000, region: 'eu-west' })]);
  });

  it('renders a table with the price in tokens, and filters', async () => {
    const table = await run(offersSpec, [], { sort: 'price', model: 'h100' }, { json: false });
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(nodeId);
    expect(table.stdout).toMatch(/2\/2 × NVIDIA H100 80GB HBM3/);
    expect(table.stdout).toMatch(/│ 2\s+│ eu-west/);
    const none = await run(offersSpec, [], { sort: 'price', maxPrice: '1.5' });
    expect(none.json.offers).toEqual([]);
  });
});

describe('iocli rent refusals', () => {
  it('without --yes when not interactive: usage error naming --yes, nothing rented', async () => {
    const out = await run(rent, [], { ...RENT_DEFAULTS, image: 'busybox:latest' }, { json: false });
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/not an interactive terminal/);
    expect(out.stderr).toMatch(/hint: Pass --yes/);
    expect(out.stdout).toBe('');
  });

  it('without --image when not interactive: names --image', async () => {
    const out = await run(rent, [], { ...RENT_DEFAULTS }, { yes: true });
    expect(out.code).toBe(2);
    expect(out.json.error.hint).toMatch(/--image/);
  });

  it('price above --max-price exits 4', async () => {
    const out = await run(rent, [], { ...RENT_DEFAULTS, image: 'busybox:latest', maxPrice: '1.5' }, { yes: true });
    expect(out.code).toBe(4);
    expect(out.json.error.code).toBe('PRICE_ABOVE_MAX');
    expect(out.json.error.message).toMatch(/--max-price 1\.5/);
    expect(out.json.error.hint).toMatch(/--max-price 2\b/);
  });

  it('no capacity explains which filter excluded the node and the closest alternative', async () => {
    const out = await run(rent, [], { ...RENT_DEFAULTS, gpus: '4', image: 'busybox:latest' }, { yes: true, json: false });
    expect(out.code).toBe(4);
    expect(out.stderr).toMatch(/Not enough capacity for 4 × any GPU \(1 node considered: 1 node matches but has fewer than 4 free GPUs on one node/);
    expect(out.stderr).toMatch(new RegExp(`hint: Closest available: 2 × NVIDIA H100 80GB HBM3 on node ${nodeId}`));
  });

  it('--dry-run quotes without renting (dev coordinator: no payment)', async () => {
    const out = await run(rent, [], { ...RENT_DEFAULTS, gpus: '2', image: 'busybox:latest', dryRun: true });
    expect(out.code).toBe(0);
    expect(out.json).toMatchObject({ dryRun: true, payment: null, quote: { gpus: 2, perHour: 4_000_000, total: 4_000_000 } });
    expect(out.json.lease).toBeUndefined();
  });
});

describe('iocli rent → leases → lease show/logs/stop', () => {
  let leaseId: string;

  it('rents with --yes and waits until the node reports the container running', async () => {
    const out = await run(rent, [], { ...RENT_DEFAULTS, gpus: '2', model: 'H100', image: 'busybox:latest', cmd: 'sh -c "echo hi"', env: ['A=1'], port: ['8888'], hours: '2' }, { yes: true });
    expect(out.stderr).toBe(''); // --json: progress is silent, stdout is one document
    expect(out.code).toBe(0);
    expect(out.json.lease).toMatchObject({ state: 'running', gpus: 2, hours: 2, totalPaid: 8_000_000, image: 'busybox:latest', command: ['sh', '-c', 'echo hi'], env: { A: '1' }, ports: [8888] });
    expect(out.json.reach).toMatchObject({ nodes: [nodeId], endpoints: [{ nodeId, port: 8888 }] });
    expect(out.json.reach.commands.logs).toBe(`iocli lease logs ${out.json.lease.id} --follow`);
    expect(out.json.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    leaseId = out.json.lease.id;
  });

  it('a retry with the same --idempotency-key returns the same lease instead of renting twice', async () => {
    const key = 'retry-test-key-0001';
    // The first rent holds the first node's GPUs; a second node gives this one room, and then none is left for a fresh quote.
    await provider.registerNode(nodeSpec({ gpuCount: 1, model: 'NVIDIA H100 80GB HBM3', pricePerGpuHour: 2_000_000, region: 'eu-west', machineId: 'second-node' }));
    const first = await run(rent, [], { ...RENT_DEFAULTS, image: 'busybox:latest', idempotencyKey: key, timeout: '0' }, { yes: true });
    expect(first.code).toBe(0);
    const again = await run(rent, [], { ...RENT_DEFAULTS, image: 'busybox:latest', idempotencyKey: key, timeout: '0' }, { yes: true });
    expect(again.code).toBe(0);
    expect(again.json.lease.id).toBe(first.json.lease.id);
    expect(again.json.quote.quoteId).toBe(first.json.quote.quoteId);
    const fresh = await run(rent, [], { ...RENT_DEFAULTS, image: 'busybox:latest', timeout: '0' }, { yes: true });
    expect(fresh.code).toBe(4); // without the key it really is a new rent, and no capacity is left
    const stop = await run(leaseStop, [first.json.lease.id], {}, { yes: true });
    expect(stop.code).toBe(0);
  });

  it('--read-only-root is stored with the lease and shown by lease show', async () => {
    const out = await run(rent, [], { ...RENT_DEFAULTS, image: 'busybox:latest', readOnlyRoot: true, timeout: '0' }, { yes: true });
    expect(out.code).toBe(0);
    expect(out.stderr).toBe(''); // no "did not record" warning: this coordinator knows the option
    expect(out.json.lease.readOnlyRoot).toBe(true);
    const show = await run(leaseShow, [out.json.lease.id], {}, { json: false });
    expect(show.stdout).toMatch(/Root filesystem:\s+read-only \(writable \/tmp tmpfs\)/);
    expect((await run(leaseShow, [out.json.lease.id], {})).json.lease.readOnlyRoot).toBe(true);
    expect((await run(leaseStop, [out.json.lease.id], {}, { yes: true })).code).toBe(0);
  });

  it('--user and --no-egress are stored with the lease and shown by lease show', async () => {
    const out = await run(rent, [], { ...RENT_DEFAULTS, image: 'busybox:latest', user: '1000:100', egress: false, timeout: '0' }, { yes: true });
    expect(out.code).toBe(0);
    expect(out.stderr).toBe(''); // no "did not record" warning: this coordinator knows the options
    expect(out.json.lease).toMatchObject({ user: { uid: 1000, gid: 100 }, egress: false });
    const show = await run(leaseShow, [out.json.lease.id], {}, { json: false });
    expect(show.stdout).toMatch(/User:\s+1000:100 \(non-root\)/);
    expect(show.stdout).toMatch(/Network:\s+none \(no egress\)/);
    expect(show.stdout).toMatch(/Isolation:\s+unknown/);
    expect((await run(leaseStop, [out.json.lease.id], {}, { yes: true })).code).toBe(0);
    const bad = await run(rent, [], { ...RENT_DEFAULTS, image: 'busybox:latest', user: '0:0', timeout: '0' }, { yes: true });
    expect(bad.code).toBe(2);
  });

  it('lists it among active leases, and shows it', async () => {
    const list = await run(leasesSpec, [], {});
    expect(list.code).toBe(0);
    expect(list.json.leases.map((l: { id: string }) => l.id)).toContain(leaseId);
    const table = await run(leasesSpec, [], {}, { json: false });
    expect(table.stdout).toContain(leaseId);
    expect(table.stdout).toMatch(/running/);

    const show = await run(leaseShow, [leaseId], {}, { json: false });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/Lease:\s+\S+/);
    expect(show.stdout).toMatch(/Ports:\s+8888 on node/);
    expect(show.stdout).toMatch(/Root filesystem:\s+writable/);
    expect(show.stdout).toContain(`iocli lease logs ${leaseId} --follow`);
  });

  it("shows the time left by the context's clock", async () => {
    const endsAt = Date.parse((await run(leaseShow, [leaseId], {})).json.lease.endsAt);
    for (const [minutesBefore, left] of [[30, '30 min left'], [90, '1 h 30 min left'], [-1, 'ended']] as const) {
      const clock = () => endsAt - minutesBefore * 60_000;
      expect((await run(leaseShow, [leaseId], {}, { json: false }, clock)).stdout).toMatch(new RegExp(`Ends:\\s+\\S+ \\(${left}\\)`));
      expect((await run(leasesSpec, [], {}, { json: false }, clock)).stdout).toContain(left);
    }
  });

  it('prints the container logs raw on stdout', async () => {
    const deadline = Date.now() + 5000;
    let out: Outcome;
    do {
      out = await run(leaseLogs, [leaseId], { interval: '100' }, { json: false });
      if (out.stdout) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } while (Date.now() < deadline);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(`hello from ${leaseId}\n`);
    const json = await run(leaseLogs, [leaseId], { interval: '100', tail: '10' });
    expect(json.json).toMatchObject({ leaseId, entries: [{ data: `hello from ${leaseId}\n`, stream: 'stdout' }] });
  });

  it('extend: without --yes when not interactive names --yes; --dry-run pays nothing; with --yes it adds the hours', async () => {
    const before = (await run(leaseShow, [leaseId], {})).json.lease;
    const refused = await run(leaseExtend, [leaseId], { hours: '1' });
    expect(refused.code).toBe(2);
    expect(refused.json.error.message).toBe('Extending a lease spends tokens and needs a confirmation, but this is not an interactive terminal.');
    expect(refused.json.error.hint).toMatch(/--yes/);

    const dry = await run(leaseExtend, [leaseId], { hours: '1', dryRun: true });
    expect(dry.code).toBe(0);
    expect(dry.json).toEqual({ dryRun: true, leaseId, hours: 1, cost: 4_000_000, payment: null });
    expect((await run(leaseShow, [leaseId], {})).json.lease.hours).toBe(before.hours);

    const extended = await run(leaseExtend, [leaseId], { hours: '1', idempotencyKey: 'extend-key-0001' }, { yes: true });
    expect(extended.code).toBe(0);
    expect(extended.json).toMatchObject({ hours: 1, cost: 4_000_000, payment: null, idempotencyKey: 'extend-key-0001', lease: { id: leaseId, hours: before.hours + 1 } });
    expect(Date.parse(extended.json.lease.endsAt) - Date.parse(before.endsAt)).toBe(3_600_000);
  });

  it('stop without --yes when not interactive names --yes; with --yes it refunds the unused time', async () => {
    const refused = await run(leaseStop, [leaseId], {});
    expect(refused.code).toBe(2);
    expect(refused.json.error.hint).toMatch(/--yes/);

    const stopped = await run(leaseStop, [leaseId], {}, { yes: true, json: false });
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toMatch(/Stopped lease/);
    // 3 h paid (2 rented + 1 extended) at 4 tokens/h, nearly all unused.
    expect(stopped.stdout).toMatch(/Refund:\s+11\.9\d+ tokens|Refund:\s+12 tokens/);

    const shown = await run(leaseShow, [leaseId], {});
    expect(shown.json.lease.state).toBe('stopped');
    expect(shown.json.lease.refund).toBeGreaterThan(11_900_000);
    const active = await run(leasesSpec, [], {});
    expect(active.json.leases.map((l: { id: string }) => l.id)).not.toContain(leaseId);
    const all = await run(leasesSpec, [], { all: true });
    expect(all.json.leases.map((l: { id: string }) => l.id)).toContain(leaseId);

    const again = await run(leaseStop, [leaseId], {}, { yes: true });
    expect(again.code).toBe(1);
    expect(again.json.error.message).toMatch(/already ended/);
  });

  it('logs --follow returns once the lease has ended', async () => {
    const out = await run(leaseLogs, [leaseId], { follow: true, interval: '50' }, { json: false });
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(`hello from ${leaseId}\n`);
    expect(out.stderr).toMatch(/has ended/);
  });
});

describe('iocli rewards', () => {
  it('shows the renter has no rewards and refuses an empty claim with exit 4', async () => {
    const shown = await run(rewardsShow, [], {});
    expect(shown.code).toBe(0);
    expect(shown.json).toMatchObject({ owner: renter.publicKey, accrued: 0, claimable: 0 });
    const human = await run(rewardsShow, [], {}, { json: false });
    expect(human.stdout).toMatch(/Claimable:\s+0 tokens/);
    const claim = await run(rewardsClaim, [], {}, { yes: true });
    expect(claim.code).toBe(4);
    expect(claim.json.error.code).toBe('NOTHING_TO_CLAIM');
  });

  it('claim without --yes when not interactive names --yes', async () => {
    const out = await run(rewardsClaim, [], {});
    expect(out.code).toBe(2);
    expect(out.json.error.hint).toMatch(/--yes/);
  });
});
