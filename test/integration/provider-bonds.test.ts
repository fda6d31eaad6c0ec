// GPU bonds through the real API on SQLite and PostgreSQL, with test stand-ins for the chain hooks (the payment check
// and the payout transfer; test/integration/bonds-chain.test.ts runs the real ones): deposit, only bonded GPUs offered,
// unbond after the cooldown (never while a lease runs), slashes exactly once, every movement a ledger row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerChallenge, bondAll } from '../support/challenges.js';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

const GPU = 'NVIDIA GeForce RTX 4090';
const PER_GPU = 400_000 * 24;

describe.each(ENGINES)('GPU bonds on %s', (engine) => {
  let coord: TestCoordinator;
  let clock = Date.now();
  const sent: Array<{ claimId: string; owner: string; amount: number; kind?: string }> = [];
  const renter = newKeypair();

  beforeAll(async () => {
    coord = await startTestCoordinator(engine, {
      dev: false,
      now: () => clock,
      maxClockSkewMs: 100 * 86_400_000,
      sweepIntervalMs: 3_600_000,
      heartbeatGraceMs: 100 * 86_400_000,
      assignmentCacheMs: 0,
      feeBps: 0,
      paymentVerifier: { verify: async (request) => ({ signature: `sig-${request.transaction}`, amount: request.amount }) },
      payoutSender: {
        prepare: async (p) => ({ signedTransaction: Buffer.from(JSON.stringify(p)).toString('base64'), signature: `payout-${p.claimId}`, lastValidBlockHeight: 100 }),
        send: async (prepared) => {
          sent.push(JSON.parse(Buffer.from(prepared.signedTransaction, 'base64').toString()) as (typeof sent)[number]);
          return 'confirmed';
        },
        status: async () => 'pending',
      },
      challenges: { workScale: 1e-9 },
      bonds: { cooldownMs: 3_600_000 },
    });
  });
  afterAll(async () => {
    await coord?.close();
  });

  async function verifiedNode(name: string, gpuCount = 1, price = 1_000) {
    const owner = newKeypair();
    const client = coord.client(owner);
    // Each node in its own region, so a test's lease lands on its own node.
    const node = await client.registerNode(nodeSpec({ machineId: `${name}-${engine}`, simulated: false, model: GPU, gpuCount, pricePerGpuHour: price, region: name }));
    expect(await answerChallenge(client, node.id)).toMatchObject({ state: 'passed' });
    return { owner, client, node };
  }
  async function ledger(account: string) {
    const engineHandle = coord.server.service.engine;
    const rows = await engineHandle.db.selectFrom('ledger').select(['kind', 'amount']).where('account', '=', account).execute();
    const sums: Record<string, number> = {};
    for (const r of rows) sums[r.kind] = (sums[r.kind] ?? 0) + Number(r.amount);
    return sums;
  }
  const offeredIds = async () => (await coord.client().offers({ limit: 1000 })).offers.map((o) => o.nodeId);

  it('announces the bond per model in GET /v1/network', async () => {
    const network = await coord.client().network();
    expect(network.bonds).toMatchObject({ required: true, cooldownMs: 3_600_000, perGpu: { 'RTX4090-24GB': PER_GPU, 'H100-SXM-80GB': 48_000_000 }, slashBps: { failedChallenge: 1000, nodeFault: 2000, renterShare: 5000 } });
  });

  it('bonds with a verified payment (a 402 names amount and reference first), offers only bonded GPUs, records a ledger row', async () => {
    const { owner, client, node } = await verifiedNode('bonder', 2);
    expect(await offeredIds()).not.toContain(node.id);
    // One GPU first: only that one is offered.
    const asked = (await client.bond(node.id, { gpus: [node.gpus[0]!.uuid] }).catch((e: unknown) => e)) as { status: number; details: { amount: number; reference: string } };
    expect(asked).toMatchObject({ status: 402, details: { amount: PER_GPU, reference: expect.stringMatching(new RegExp(`^bond:${node.id}:`)) } });
    const bond = await client.bond(node.id, { gpus: [node.gpus[0]!.uuid], reference: asked.details.reference, payment: { transaction: `one-${engine}` } });
    expect(bond.gpus.map((g) => [g.state, g.balance])).toEqual([['active', PER_GPU], ['unbonded', 0]]);
    expect((await coord.client().offers({ limit: 1000 })).offers.find((o) => o.nodeId === node.id)).toMatchObject({ freeGpus: 1, totalGpus: 2 });
    // The same payment cannot bond again.
    await expect(client.bond(node.id, { reference: `bond:${node.id}:again`, payment: { transaction: `one-${engine}` } })).rejects.toMatchObject({ code: 'PAYMENT_REUSED' });
    await bondAll(client, node.id);
    expect((await coord.client().offers({ limit: 1000 })).offers.find((o) => o.nodeId === node.id)).toMatchObject({ freeGpus: 2 });
    expect(await ledger(owner.publicKey)).toEqual({ bond: 2 * PER_GPU });
    await expect(client.bond(node.id, {})).rejects.toMatchObject({ code: 'ALREADY_BONDED' });
  });

  it('slashes once for a failed challenge (all to the network)', async () => {
    const { owner, client, node } = await verifiedNode('cheat', 1);
    await bondAll(client, node.id);
    // A random re-challenge (the sweep issues these at random times; issued directly here), a second later.
    clock += 1_000;
    await coord.server.service.issueChallenge(node.id, 'random');
    expect(await answerChallenge(client, node.id, { strategy: 'wrong' })).toMatchObject({ state: 'failed' });
    const slash = PER_GPU / 10;
    expect(await ledger(owner.publicKey)).toEqual({ bond: PER_GPU, bond_slash: -slash });
    expect((await client.nodeBond(node.id)).gpus[0]).toMatchObject({ balance: PER_GPU - slash });
    expect((await client.nodeWhy(node.id)).reasons.map((r) => r.code)).toEqual(expect.arrayContaining(['CHALLENGE_FAILED', 'SLASHED']));
  });

  it('slashes a node-fault lease exactly once with 50 concurrent triggers; the renter gets its share on top of the refund', async () => {
    const { owner, client, node } = await verifiedNode('faulty', 1, 600_000);
    await bondAll(client, node.id);
    const r = coord.client(renter);
    const lease = await r.createLease({ quoteId: (await r.quote({ gpus: 1, image: 'busybox', region: 'faulty' })).quoteId, payment: { transaction: `lease-${engine}` } });
    await client.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }] });
    sent.length = 0;
    const results = await Promise.all(Array.from({ length: 50 }, () => coord.server.service.endLease(lease.id, 'failed', clock, { reason: 'node fault (test)', nodeFault: true })));
    expect(results.filter(Boolean)).toHaveLength(1);
    await coord.server.service.payouts!.idle();
    const slash = PER_GPU / 5;
    const award = slash / 2;
    const db = coord.server.service.engine.db;
    expect(await db.selectFrom('slashes').selectAll().where('node_id', '=', node.id).execute()).toEqual([expect.objectContaining({ trigger: `lease:${lease.id}:${node.id}`, amount: slash, renter_amount: award, network_amount: slash - award })]);
    // Exactly one slash payout was sent, to the renter, beside the refund.
    expect(sent.filter((p) => p.kind === 'slash')).toEqual([expect.objectContaining({ owner: renter.publicKey, amount: award })]);
    expect(sent.filter((p) => p.kind === 'refund')).toHaveLength(1);
    expect(await ledger(owner.publicKey)).toEqual({ bond: PER_GPU, bond_slash: -slash });
    const renterLedger = await ledger(renter.publicKey);
    expect(renterLedger).toMatchObject({ slash_award: award, slash_payout: -award });
    const payouts = await db.selectFrom('claims').select(['kind', 'state', 'amount']).where('owner', '=', renter.publicKey).where('kind', '=', 'slash').execute();
    expect(payouts).toEqual([{ kind: 'slash', state: 'paid', amount: award }]);
    // Triggers after the fact change nothing.
    await Promise.all(Array.from({ length: 10 }, () => coord.server.service.endLease(lease.id, 'failed', clock, { reason: 'again', nodeFault: true })));
    expect(await db.selectFrom('slashes').select('trigger').where('node_id', '=', node.id).execute()).toHaveLength(1);
  });

  it('unbonds after the cooldown, never while a lease runs, and returns the balance once through the outbox', async () => {
    const { owner, client, node } = await verifiedNode('leaver', 1, 700_000);
    await bondAll(client, node.id);
    const r = coord.client(renter);
    const lease = await r.createLease({ quoteId: (await r.quote({ gpus: 1, image: 'busybox', region: 'leaver', hours: 5 })).quoteId, payment: { transaction: `leaver-${engine}` } });
    await client.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }] });
    const unbonding = await client.unbond(node.id, {});
    expect(unbonding.gpus[0]).toMatchObject({ state: 'unbonding', unbondAt: new Date(clock + 3_600_000).toISOString() });
    expect(await offeredIds()).not.toContain(node.id);
    sent.length = 0;
    clock += 2 * 3_600_000;
    await client.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }] });
    await coord.server.sweep();
    // The cooldown is over but the lease still runs: nothing goes back.
    expect((await client.nodeBond(node.id)).gpus[0]).toMatchObject({ state: 'unbonding', balance: PER_GPU });
    expect(sent.filter((p) => p.kind === 'unbond')).toEqual([]);
    await r.stopLease(lease.id);
    await Promise.all([coord.server.sweep(), coord.server.sweep()]);
    await coord.server.service.payouts!.idle();
    expect(sent.filter((p) => p.kind === 'unbond')).toEqual([expect.objectContaining({ owner: owner.publicKey, amount: PER_GPU })]);
    const after = await client.nodeBond(node.id);
    expect(after).toMatchObject({ held: 0, gpus: [{ state: 'unbonded', balance: 0 }] });
    expect(await ledger(owner.publicKey)).toMatchObject({ bond: PER_GPU, bond_return: -PER_GPU });
  });
});

