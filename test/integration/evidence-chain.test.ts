// Frozen minutes with real money on the local chain (litesvm behind the JSON-RPC facade, the real SolanaPaymentVerifier
// and SolanaPayoutSender): running minutes a failed liveness probe left unpaid go back to the renter through the payout
// outbox, each once under concurrent triggers and across a kill -9 between signing and confirmation, and token balances
// on chain equal the ledger.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalNetwork } from '../../src/chain/bootstrap.js';
import { createApiClient } from '../../src/api/client.js';
import { openDatabase } from '../../src/coordinator/db.js';
import { createSolanaHooks } from '../../src/coordinator/solana-payments.js';
import type { Keypair } from '../../src/wallet/keypair.js';
import { startTestLocalNetwork, type TestLocalNetwork } from '../support/chain.js';
import { answerChallenge } from '../support/challenges.js';
import { nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';
import { chainCrashCoordinators, ensureCoordinatorBuilt, kill9 } from '../support/coordinator-process.js';
import { waitFor } from '../support/wait.js';

const GPU = 'NVIDIA GeForce RTX 4090';
const PER_GPU = 400_000 * 24;
/** 10_000 base units a minute. */
const PRICE = 600_000;
const MINUTE = 60_000;

let net: TestLocalNetwork;
let local: LocalNetwork;
let coord: TestCoordinator;
let clock = Date.now();

beforeAll(async () => {
  ensureCoordinatorBuilt();
  net = await startTestLocalNetwork('iocli-evidence-chain-');
  ({ local } = net);
  const hooks = await createSolanaHooks(net.solana);
  coord = await startTestCoordinator('sqlite', {
    dev: false,
    now: () => clock,
    maxClockSkewMs: 10 * 86_400_000,
    paymentVerifier: hooks.paymentVerifier,
    payoutSender: hooks.payoutSender,
    network: hooks.network,
    feeBps: 0,
    heartbeatGraceMs: 86_400_000,
    sweepIntervalMs: 3_600_000,
    meteringIntervalMs: 0,
    assignmentCacheMs: 0,
    challenges: { workScale: 1e-9 },
    // The agent's own report passes probes here (the subject is the money path; the relay check has its own tests).
    evidence: { meanIntervalMs: 3_600_000, deadlineMs: 30_000, via: 'agent-report' },
  });
}, 60_000);
afterAll(async () => {
  await coord?.close();
  await net?.close();
});

const balance = (owner: string) => net.tokenBalance(owner);
const funded = (tokens: bigint) => net.fundedKeypair(tokens);
const pay = (payer: Keypair, amount: number, reference: string) => net.leasePayment(payer, amount, reference);

describe('frozen minutes on the local chain', () => {
  it('refunds each frozen minute once (20 concurrent probe answers, 50 concurrent ends): chain balances equal the ledger', async () => {
    const providerKey = await funded(50_000_000n);
    const renterKey = await funded(50_000_000n);
    const provider = coord.client(providerKey);
    const renter = coord.client(renterKey);
    const treasury0 = await balance(local.treasury.publicKey);

    const node = await provider.registerNode(nodeSpec({ machineId: 'frozen-chain', simulated: false, model: GPU, gpuCount: 1, pricePerGpuHour: PRICE, region: 'frozen-chain' }));
    expect(await answerChallenge(provider, node.id)).toMatchObject({ state: 'passed' });
    const asked = (await provider.bond(node.id, {}).catch((e: unknown) => e)) as { details: { amount: number; reference: string } };
    await provider.bond(node.id, { reference: asked.details.reference, payment: { transaction: await pay(providerKey, asked.details.amount, asked.details.reference) } });
    const quote = await renter.quote({ gpus: 1, image: 'busybox', region: 'frozen-chain', hours: 2 });
    expect(quote.total).toBe(120 * 10_000);
    const lease = await renter.createLease({ quoteId: quote.quoteId, payment: { transaction: await pay(renterKey, quote.total, quote.quoteId) } });
    const beat = () => provider.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }] });
    await beat();

    // Minute 10: a probe nobody answers freezes the lease; ten more minutes of "running" heartbeats.
    clock += 10 * MINUTE;
    await beat();
    await coord.server.service.issueProbe(node.id);
    clock += 31_000;
    await coord.server.sweep();
    clock += 10 * MINUTE;
    await beat();

    // A passing probe, answered 20 times at once: one answer closes it and refunds the 10 frozen minutes once.
    const probe = (await coord.server.service.issueProbe(node.id))!;
    const answer = { leases: [{ leaseId: lease.id, containerId: 'c'.repeat(64), running: true, state: 'running', startedAt: new Date(clock - 20 * MINUTE).toISOString() }] };
    const answers = await Promise.allSettled(Array.from({ length: 20 }, () => provider.answerProbe(node.id, probe, answer)));
    expect(answers.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    await coord.server.service.payouts!.idle();
    expect(await balance(renterKey.publicKey)).toBe(50_000_000 - quote.total + 10 * 10_000);

    // Frozen again at minute 25 (a probe answered "not running"), then 50 concurrent ends at 30 min 31 s.
    clock += 5 * MINUTE;
    await beat();
    const bad = (await coord.server.service.issueProbe(node.id))!;
    await provider.answerProbe(node.id, bad, { leases: [{ leaseId: lease.id, containerId: 'c'.repeat(64), running: false, state: 'exited', startedAt: null }] });
    clock += 5 * MINUTE;
    await beat();
    const ended = await Promise.all(Array.from({ length: 50 }, () => coord.server.service.endLease(lease.id, 'stopped', clock, { reason: null, nodeFault: false })));
    expect(ended.filter(Boolean)).toHaveLength(1);
    await coord.server.service.payouts!.idle();
    for (const e of ended) if (e && e.refundPayout) await coord.server.service.payouts!.settle(e.refundPayout);

    const shown = await renter.lease(lease.id);
    expect(shown).toMatchObject({ frozenMinutes: 16, frozenRefund: 16 * 10_000, refund: 89 * 10_000 });
    expect((await provider.rewards()).accrued).toBe(15 * 10_000);
    // On chain: the renter got the unused time and the 16 frozen minutes back; the treasury keeps the bond and the
    // provider's 15 accrued (unclaimed) minutes.
    expect(await balance(renterKey.publicKey)).toBe(50_000_000 - quote.total + 89 * 10_000 + 16 * 10_000);
    expect(await balance(local.treasury.publicKey)).toBe(treasury0 + PER_GPU + 15 * 10_000);

    // The ledger says the same, row by row: every payout paid, one per refund.
    const db = coord.server.service.engine.db;
    const rows = await db.selectFrom('ledger').select(['kind', 'amount']).where('account', '=', renterKey.publicKey).execute();
    const sums: Record<string, number> = {};
    for (const row of rows) sums[row.kind] = (sums[row.kind] ?? 0) + Number(row.amount);
    expect(sums).toEqual({ payment: quote.total, refund: 89 * 10_000, frozen_refund: 16 * 10_000, refund_payout: -(89 + 16) * 10_000 });
    const payouts = await db.selectFrom('claims').select(['id', 'state', 'amount']).where('owner', '=', renterKey.publicKey).execute();
    expect(payouts.map((p) => [p.id.split('_')[0], p.state, Number(p.amount)]).sort()).toEqual([
      ['frozen', 'paid', 10 * 10_000],
      ['frozen', 'paid', 6 * 10_000],
      ['refund', 'paid', 89 * 10_000],
    ]);
    // The lease's refund signature names the refund of the unused time, not a frozen-minute one.
    const unused = await db.selectFrom('claims').select('signature').where('owner', '=', renterKey.publicKey).where('id', 'like', 'refund%').executeTakeFirstOrThrow();
    expect(shown.refundSignature).toBe(unused.signature);
  }, 120_000);
});

describe('a frozen-minute refund across kill -9 between signing and confirmation', () => {
  const crash = chainCrashCoordinators(() => net.solana, { heartbeatGraceMs: 3_600_000, evidence: { meanIntervalMs: 86_400_000, deadlineMs: 600_000, via: 'agent-report' } });
  const start = crash.start;

  it('refunds the frozen minutes exactly once after the coordinator dies with the transfer signed', async () => {
    const providerKey = await funded(50_000_000n);
    const renterKey = await funded(50_000_000n);
    const setup = await start();
    const client = (url: string, k: Keypair) => createApiClient({ baseUrl: url, keypair: k, timeoutMs: 60_000 });
    const provider = client(setup.url, providerKey);
    const renter = client(setup.url, renterKey);
    const node = await provider.registerNode(nodeSpec({ machineId: 'frozen-crash', simulated: false, model: GPU, gpuCount: 1, pricePerGpuHour: PRICE, region: 'frozen-crash' }));
    expect(await answerChallenge(provider, node.id)).toMatchObject({ state: 'passed' });
    const asked = (await provider.bond(node.id, {}).catch((e: unknown) => e)) as { details: { amount: number; reference: string } };
    await provider.bond(node.id, { reference: asked.details.reference, payment: { transaction: await pay(providerKey, asked.details.amount, asked.details.reference) } });
    const quote = await renter.quote({ gpus: 1, image: 'busybox', region: 'frozen-crash', hours: 2 });
    const lease = await renter.createLease({ quoteId: quote.quoteId, payment: { transaction: await pay(renterKey, quote.total, quote.quoteId) } });
    await provider.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }] });
    await kill9(setup.child);

    // The lease has run 30 minutes, frozen since minute 10 by a failed probe; a new probe is open.
    const t = Date.now();
    const seed = await openDatabase(crash.location());
    const row = await seed.db.selectFrom('leases').select(['starts_at', 'started_at', 'ends_at', 'created_at']).where('id', '=', lease.id).executeTakeFirstOrThrow();
    const shift = t - 30 * MINUTE - Number(row.started_at);
    await seed.db
      .updateTable('leases')
      .set({ created_at: Number(row.created_at) + shift, starts_at: Number(row.starts_at) + shift, started_at: Number(row.started_at) + shift, ends_at: Number(row.ends_at) + shift, unproven_from: t - 20 * MINUTE, accrued_minutes: 10 })
      .where('id', '=', lease.id)
      .execute();
    await seed.db.insertInto('probes').values({ id: 'probe_crash', node_id: node.id, leases: JSON.stringify([lease.id]), state: 'issued', detail: null, issued_at: t, deadline_at: t + 600_000, answered_at: null }).execute();
    await seed.close();

    // The probe passes on a coordinator that pauses after signing each payout; it dies there.
    const crashing = await start('signed');
    const answer = { leases: [{ leaseId: lease.id, containerId: 'c'.repeat(64), running: true, state: 'running', startedAt: new Date(t - 30 * MINUTE).toISOString() }] };
    expect(await client(crashing.url, providerKey).answerProbe(node.id, 'probe_crash', answer)).toMatchObject({ state: 'passed' });
    expect(await crashing.paused).toMatch(/^frozen_/);
    await kill9(crashing.child);
    expect(await balance(renterKey.publicKey)).toBe(50_000_000 - quote.total);

    // Restart: recovery settles the signed refund from the chain, once; later restarts change nothing.
    const final = await start();
    const shown = await client(final.url, renterKey).lease(lease.id);
    expect(shown).toMatchObject({ frozenMinutes: 20, frozenRefund: 20 * 10_000 });
    const expected = 50_000_000 - quote.total + 20 * 10_000;
    let seen = 0;
    await waitFor('the renter balance after recovery', async () => (seen = await balance(renterKey.publicKey)) === expected, { timeoutMs: 30_000, intervalMs: 200, context: () => `renter balance ${seen}, expected ${expected}` });
    await kill9(final.child);
    await kill9((await start()).child);
    expect(await balance(renterKey.publicKey)).toBe(expected);
    const db = await openDatabase(crash.location());
    try {
      const payouts = await db.db.selectFrom('claims').select(['id', 'state', 'amount']).where('owner', '=', renterKey.publicKey).execute();
      expect(payouts.map((p) => [p.id.split('_')[0], p.state, Number(p.amount)])).toEqual([['frozen', 'paid', 20 * 10_000]]);
      const ledger = await db.db.selectFrom('ledger').select(['kind', 'amount']).where('account', '=', renterKey.publicKey).where('kind', 'in', ['frozen_refund', 'refund_payout']).execute();
      expect(ledger.map((l) => [l.kind, Number(l.amount)]).sort()).toEqual([['frozen_refund', 20 * 10_000], ['refund_payout', -20 * 10_000]]);
    } finally {
      await db.close();
    }
  }, 120_000);
});
