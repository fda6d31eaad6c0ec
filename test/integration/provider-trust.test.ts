// Provider trust through the real API on SQLite and PostgreSQL: GPU challenges the coordinator issues and checks, and
// `verified` / offers / placement coming only from a passed one.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/client.js';
import type { AgentEvent } from '../../src/provider/agent.js';
import { startTestAgent } from '../support/agent.js';
import { waitFor } from '../support/wait.js';
import { answerChallenge, bondAll, openChallenge, solveAs } from '../support/challenges.js';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

const GPU = 'NVIDIA GeForce RTX 4090';

describe.each(ENGINES)('provider trust on %s', (engine) => {
  let prod: TestCoordinator;
  let clock = Date.now();
  const renter = newKeypair();

  beforeAll(async () => {
    // A production coordinator (not --dev). The test-only work scale shrinks the "RTX 4090" challenge so a CPU can
    // answer it honestly within the allowance; the checks are the real ones.
    prod = await startTestCoordinator(engine, {
      dev: false,
      now: () => clock,
      maxClockSkewMs: 10 * 86_400_000,
      sweepIntervalMs: 3_600_000,
      heartbeatGraceMs: 3_600_000,
      assignmentCacheMs: 0,
      paymentVerifier: { verify: async (request) => ({ signature: `sig-${request.transaction}`, amount: request.amount }) },
      challenges: { workScale: 1e-9, allowanceMs: 1_500, answerWindowMs: 5_000, perDay: 4 },
    });
  });
  afterAll(async () => {
    await prod?.close();
  });

  const register = async (machineId: string, extra: Parameters<typeof nodeSpec>[0] = {}) => {
    const owner = newKeypair();
    const client = prod.client(owner);
    const node = await client.registerNode(nodeSpec({ machineId: `${machineId}-${engine}`, simulated: false, model: GPU, gpuCount: 2, ...extra }));
    return { owner, client, node };
  };
  const offered = async () => (await prod.client().offers({ limit: 1000 })).offers.map((o) => o.nodeId);

  it('ignores a self-reported "verified" benchmark: only a passed challenge makes a node verified and offered', async () => {
    const { client, node } = await register('liar', { verification: { kind: 'benchmark', tflops: 999, expectedTflops: 165, passed: true } });
    await client.heartbeat(node.id, { verification: { kind: 'benchmark', tflops: 999, expectedTflops: 165, passed: true } });
    expect((await client.node(node.id)).verified).toBe(false);
    expect(await offered()).not.toContain(node.id);
    const refused = (await prod.client(renter).quote({ gpus: 1, image: 'busybox', model: GPU }).catch((e: unknown) => e)) as ApiError;
    expect(refused.code).toBe('NO_CAPACITY');

    const challenge = await openChallenge(client, node.id);
    expect(challenge).toMatchObject({ gpus: [{ kind: 'gpu', model: GPU }, { kind: 'gpu', model: GPU }] });
    const result = await answerChallenge(client, node.id, { offer: challenge });
    expect(result).toMatchObject({ state: 'passed', reason: 'registration', kind: 'gpu', computeMs: expect.any(Number) });
    const detail = await client.node(node.id);
    expect(detail).toMatchObject({ verified: true, verifiedUntil: expect.any(String) });
    // Verified but unbonded: still not offered, and `why` names the bond.
    expect(await offered()).not.toContain(node.id);
    expect((await client.nodeWhy(node.id)).reasons.map((r) => r.code)).toContain('NOT_BONDED');
    const { amount } = await bondAll(client, node.id);
    // Two RTX 4090s: a day of the catalogue's suggested price each (0.4 tokens/h × 24).
    expect(amount).toBe(2 * 400_000 * 24);
    const offer = (await prod.client().offers({ limit: 1000 })).offers.find((o) => o.nodeId === node.id);
    expect(offer).toMatchObject({ verified: true, verification: 'verified', challenge: 'gpu' });
    // The challenge is no longer sent once answered.
    expect(await openChallenge(client, node.id)).toBeUndefined();
  });

  it.each([
    ['wrong answers', 'wrong' as const, false, 'failed', 'CHALLENGE_FAILED'],
    ['half the work (passes with probability 2^-40 per GPU)', 'half' as const, false, 'failed', 'CHALLENGE_FAILED'],
    ['right answers after the deadline', 'honest' as const, true, 'expired', 'CHALLENGE_EXPIRED'],
  ])('fails a node that sends %s, and `why` says so', async (name, strategy, late, state, code) => {
    const { client, node } = await register(`bad-${name.split(' ')[0]}`);
    const challenge = (await openChallenge(client, node.id))!;
    if (late) clock = Date.parse(challenge.deadlineAt) + 1; // the coordinator's clock: the commitment arrives late
    const result = await answerChallenge(client, node.id, { strategy, offer: challenge });
    expect(result.state).toBe(state);
    expect((await client.node(node.id)).verified).toBe(false);
    expect(await offered()).not.toContain(node.id);
    const why = await client.nodeWhy(node.id);
    expect(why).toMatchObject({ offered: false, earning: false, challenges: [{ id: challenge.id, state }] });
    expect(why.reasons.map((r) => r.code)).toContain(code);
    expect(why.reasons.find((r) => r.code === code)!.next).toMatch(/iocli provide/);
  });

  it('expires an unanswered challenge in the sweep, and re-challenges after a GPU change', async () => {
    const { client, node } = await register('silent', { gpuCount: 1 });
    const first = (await openChallenge(client, node.id))!;
    clock = Date.parse(first.deadlineAt) + 1;
    await prod.server.sweep();
    expect((await client.nodeWhy(node.id)).challenges[0]).toMatchObject({ id: first.id, state: 'expired', computeMs: null });
    // Answering the expired challenge is refused.
    await expect(answerChallenge(client, node.id, { offer: first })).rejects.toMatchObject({ code: 'CHALLENGE_NOT_OPEN' });
    // Re-registering (agent restart) issues a new one; passing it, then changing the GPUs, drops the pass.
    clock += 1_000;
    await client.registerNode(nodeSpec({ machineId: `silent-${engine}`, simulated: false, model: GPU, gpuCount: 1 }));
    expect(await answerChallenge(client, node.id)).toMatchObject({ state: 'passed' });
    await bondAll(client, node.id);
    expect(await offered()).toContain(node.id);
    clock += 1_000;
    await client.registerNode(nodeSpec({ machineId: `silent-${engine}`, simulated: false, model: GPU, gpuCount: 2 }));
    expect(await offered()).not.toContain(node.id);
    expect((await client.nodeWhy(node.id)).challenges[0]).toMatchObject({ reason: 'gpus-changed', state: 'issued', gpus: expect.arrayContaining([expect.any(String), expect.any(String)]) });
    expect(await answerChallenge(client, node.id)).toMatchObject({ state: 'passed' });
  });

  it('a pass ages out, random challenges come only while no GPU is leased', async () => {
    const { client, node } = await register('ager', { gpuCount: 1, pricePerGpuHour: 7 });
    expect(await answerChallenge(client, node.id)).toMatchObject({ state: 'passed' });
    await bondAll(client, node.id);
    // Leased: no random challenge however overdue.
    const lease = await prod.client(renter).createLease({ quoteId: (await prod.client(renter).quote({ gpus: 1, image: 'busybox', maxPrice: 7, hours: 72 })).quoteId, payment: { transaction: `ager-${engine}` } });
    expect(lease.state).toBe('scheduled');
    clock += 2 * 86_400_000;
    await client.heartbeat(node.id, {});
    await prod.server.sweep();
    expect(await openChallenge(client, node.id)).toBeUndefined();
    expect((await client.nodeWhy(node.id)).reasons.map((r) => r.code)).toContain('VERIFICATION_EXPIRED');
    // Free again: the overdue random challenge is issued by the sweep.
    await prod.client(renter).stopLease(lease.id);
    await prod.server.sweep();
    const random = await openChallenge(client, node.id);
    expect(random).toBeDefined();
    expect((await client.nodeWhy(node.id)).challenges[0]).toMatchObject({ reason: 'random' });
    expect(await answerChallenge(client, node.id, { offer: random })).toMatchObject({ state: 'passed' });
    expect(await offered()).toContain(node.id);
  });

  it('a random challenge that a lease overtakes is cancelled: not failed, not counted, the pass kept', async () => {
    const region = `overtaken-${engine}`;
    const { client, node } = await register('overtaken', { gpuCount: 2, pricePerGpuHour: 9, region });
    expect(await answerChallenge(client, node.id)).toMatchObject({ state: 'passed' });
    await bondAll(client, node.id);
    const db = prod.server.service.engine.db;
    const makeDue = () => db.updateTable('nodes').set({ next_challenge_at: clock }).where('id', '=', node.id).execute();
    clock += 1_000;
    await makeDue();
    await prod.server.sweep();
    const random = (await openChallenge(client, node.id))!;
    expect((await client.nodeWhy(node.id)).challenges[0]).toMatchObject({ id: random.id, reason: 'random', state: 'issued' });
    // The node commits, then a renter leases one of its two GPUs before the openings arrive.
    const solved = new Map(random.gpus.map((gpu) => [gpu.uuid, solveAs('honest', gpu)]));
    const drawn = await client.commitChallenge(node.id, random.id, { roots: Object.fromEntries([...solved].map(([uuid, s]) => [uuid, s.root])) });
    expect(drawn.state).toBe('committed');
    const r = prod.client(renter);
    const lease = await r.createLease({ quoteId: (await r.quote({ gpus: 1, image: 'busybox', maxPrice: 9, region })).quoteId, payment: { transaction: `overtaken-${engine}` } });
    expect(lease.allocations[0]!.nodeId).toBe(node.id);
    const openings = Object.fromEntries([...solved].map(([uuid, s]) => [uuid, s.open(drawn.samples[uuid]!)]));
    await expect(client.answerChallenge(node.id, random.id, { openings })).rejects.toMatchObject({ status: 409, code: 'CHALLENGE_CANCELLED' });
    const why = await client.nodeWhy(node.id);
    expect(why.challenges[0]).toMatchObject({ id: random.id, state: 'cancelled', detail: expect.stringContaining(lease.id) });
    expect(why.reasons.map((reason) => reason.code)).not.toContain('CHALLENGE_FAILED');
    expect((await client.node(node.id)).verified).toBe(true);
    expect(await db.selectFrom('slashes').select('trigger').where('node_id', '=', node.id).execute()).toEqual([]);
    const next = await db.selectFrom('nodes').select('next_challenge_at').where('id', '=', node.id).executeTakeFirstOrThrow();
    expect(Number(next.next_challenge_at)).toBeGreaterThan(clock);
    // While the lease holds a GPU, an overdue random challenge is not issued.
    await makeDue();
    await prod.server.sweep();
    expect(await openChallenge(client, node.id)).toBeUndefined();
    await r.stopLease(lease.id);
  });

  it('a lease placed while the sweep issues a random challenge never leaves one open on leased GPUs', async () => {
    const region = `racer-${engine}`;
    const { client, node } = await register('racer', { gpuCount: 1, pricePerGpuHour: 11, region });
    expect(await answerChallenge(client, node.id)).toMatchObject({ state: 'passed' });
    await bondAll(client, node.id);
    const db = prod.server.service.engine.db;
    const r = prod.client(renter);
    for (let round = 0; round < 8; round++) {
      clock += 1_000;
      await db.updateTable('nodes').set({ next_challenge_at: clock }).where('id', '=', node.id).execute();
      const quote = await r.quote({ gpus: 1, image: 'busybox', maxPrice: 11, region });
      const [, lease] = await Promise.all([prod.server.sweep(), r.createLease({ quoteId: quote.quoteId, payment: { transaction: `racer-${engine}-${round}` } })]);
      const open = await db.selectFrom('challenges').select(['state', 'reason']).where('node_id', '=', node.id).where('state', 'in', ['issued', 'committed']).execute();
      expect(open).toEqual([]);
      await r.stopLease(lease.id);
    }
    const states = await db.selectFrom('challenges').select('state').where('node_id', '=', node.id).where('reason', '=', 'random').execute();
    expect(states.every((s) => s.state === 'cancelled')).toBe(true);
  });

  it('160 unbonded fake nodes (even with passed challenges on some) change nothing for renters', async () => {
    const honest = await register('honest', { gpuCount: 1, pricePerGpuHour: 500 });
    expect(await answerChallenge(honest.client, honest.node.id)).toMatchObject({ state: 'passed' });
    await bondAll(honest.client, honest.node.id);
    const liar = newKeypair();
    const fakes: Array<{ id: string }> = [];
    for (let i = 0; i < 160; i++) {
      fakes.push(
        await prod.client(liar).registerNode(nodeSpec({ machineId: `fake-${engine}-${i}`, simulated: false, model: GPU, gpuCount: 64, pricePerGpuHour: 1, verification: { kind: 'benchmark', tflops: 999, expectedTflops: 165, passed: true } })),
      );
    }
    // A fake that even passes its challenge honestly: unbonded, it still gets nothing.
    const passing = await prod.client(liar).registerNode(nodeSpec({ machineId: `fake-${engine}-passing`, simulated: false, model: GPU, gpuCount: 2, pricePerGpuHour: 1 }));
    expect(await answerChallenge(prod.client(liar), passing.id)).toMatchObject({ state: 'passed' });
    fakes.push(passing);
    const offers = (await prod.client().offers({ limit: 1000 })).offers;
    expect(offers.filter((o) => fakes.some((f) => f.id === o.nodeId))).toEqual([]);
    // The cheapest quote goes to a verified node, never to a 1-unit fake.
    const quote = await prod.client(renter).quote({ gpus: 1, image: 'busybox', model: GPU });
    expect(fakes.map((f) => f.id)).not.toContain(quote.placement[0]!.nodeId);
    expect(quote.pricePerGpuHour).toBeGreaterThan(1);
  }, 90_000);

  it('only the owner reads `why`, and only the node commits', async () => {
    const { client, node } = await register('owned', { gpuCount: 1 });
    const stranger = prod.client(newKeypair());
    await expect(stranger.nodeWhy(node.id)).rejects.toMatchObject({ status: 403 });
    const challenge = (await openChallenge(client, node.id))!;
    await expect(answerChallenge(stranger, node.id, { offer: challenge })).rejects.toMatchObject({ status: 403 });
  });
});

describe('the provider agent answers its challenges (dev coordinator, simulated GPUs, CPU stand-in)', () => {
  it('passes the registration challenge by itself, labelled cpu-stand-in, with its timing recorded', async () => {
    const coord = await startTestCoordinator('sqlite', { heartbeatGraceMs: 60_000 });
    const dataDir = await mkdtemp(join(tmpdir(), 'iocli-trust-agent-'));
    const controller = new AbortController();
    const events: AgentEvent[] = [];
    const owner = newKeypair();
    const machineId = `trust-agent-${process.pid}`;
    let nodeId: string | undefined;
    const agent = startTestAgent({ api: coord.client(owner), machineId, simulate: '2:H100', dataDir, signal: controller.signal, events, onNodeId: (id) => (nodeId = id), longPollMs: 0 });
    try {
      const passed = await waitFor('the challenge verdict', async () => events.find((e) => e.type === 'challenge' && e.state !== 'started'), { timeoutMs: 20_000 });
      expect(passed).toMatchObject({ type: 'challenge', state: 'passed', ms: expect.any(Number) });
      expect(events.find((e) => e.type === 'challenge' && e.state === 'started')).toMatchObject({ kind: 'cpu-stand-in', gpus: 2 });
      const offer = (await coord.client().offers()).offers.find((o) => o.nodeId === nodeId);
      expect(offer).toMatchObject({ simulated: true, verified: false, verification: 'simulated', challenge: 'cpu-stand-in' });
      const why = await coord.client(owner).nodeWhy(nodeId!);
      expect(why).toMatchObject({ offered: true, challenges: [{ state: 'passed', kind: 'cpu-stand-in', reason: 'registration' }] });
      expect(why.challenges[0]!.computeMs).toBeLessThan(why.challenges[0]!.allowedMs);
    } finally {
      controller.abort();
      await agent.catch(() => undefined);
      await coord.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
