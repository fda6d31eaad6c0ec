// GPU bonds with real money on the local chain (litesvm behind the JSON-RPC facade, the real SolanaPaymentVerifier and
// SolanaPayoutSender): bond, a node-fault slash paid exactly once with 50 concurrent triggers, unbond after the cooldown,
// a slash payout across kill -9 between signing and confirmation; token balances on chain equal the ledger.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient } from '../../src/api/client.js';
import type { LocalNetwork } from '../../src/chain/bootstrap.js';
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
const PRICE = 600_000;

let net: TestLocalNetwork;
let local: LocalNetwork;

beforeAll(async () => {
  ensureCoordinatorBuilt();
  net = await startTestLocalNetwork('iocli-bonds-chain-');
  ({ local } = net);
});
afterAll(async () => {
  await net?.close();
});

const balance = (owner: string) => net.tokenBalance(owner);
const funded = (tokens: bigint) => net.fundedKeypair(tokens);
const pay = (payer: Keypair, amount: number, reference: string) => net.leasePayment(payer, amount, reference);

/** Register, pass the challenge, bond (real transfer), rent one GPU (real transfer) and report it running. */
async function bondedNodeWithLease(provider: ApiClient, providerKey: Keypair, renterClient: ApiClient, renterKey: Keypair, region: string) {
  const node = await provider.registerNode(nodeSpec({ machineId: region, simulated: false, model: GPU, gpuCount: 1, pricePerGpuHour: PRICE, region }));
  expect(await answerChallenge(provider, node.id)).toMatchObject({ state: 'passed' });
  const asked = (await provider.bond(node.id, {}).catch((e: unknown) => e)) as { details: { amount: number; reference: string } };
  await provider.bond(node.id, { reference: asked.details.reference, payment: { transaction: await pay(providerKey, asked.details.amount, asked.details.reference) } });
  const quote = await renterClient.quote({ gpus: 1, image: 'busybox', region, hours: 2 });
  const lease = await renterClient.createLease({ quoteId: quote.quoteId, payment: { transaction: await pay(renterKey, quote.total, quote.quoteId) } });
  await provider.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }] });
  return { node, lease, quote };
}

async function ledgerSums(db: Awaited<ReturnType<typeof openDatabase>>['db'], account: string): Promise<Record<string, number>> {
  const rows = await db.selectFrom('ledger').select(['kind', 'amount']).where('account', '=', account).execute();
  const sums: Record<string, number> = {};
  for (const r of rows) sums[r.kind] = (sums[r.kind] ?? 0) + Number(r.amount);
  return sums;
}

describe('GPU bonds on the local chain', () => {
  let coord: TestCoordinator;

  beforeAll(async () => {
    const hooks = await createSolanaHooks(net.solana);
    coord = await startTestCoordinator('sqlite', {
      dev: false,
      paymentVerifier: hooks.paymentVerifier,
      payoutSender: hooks.payoutSender,
      network: hooks.network,
      feeBps: 0,
      heartbeatGraceMs: 600_000,
      sweepIntervalMs: 600_000,
      challenges: { workScale: 1e-9 },
      bonds: { cooldownMs: 1 },
    });
  });
  afterAll(async () => {
    await coord?.close();
  });

  it('bonds, slashes a node fault once under 50 concurrent triggers, unbonds the rest: chain balances equal the ledger', async () => {
    const providerKey = await funded(50_000_000n);
    const renterKey = await funded(50_000_000n);
    const provider = coord.client(providerKey);
    const renter = coord.client(renterKey);
    const treasury0 = await balance(local.treasury.publicKey);
    const { node, lease, quote } = await bondedNodeWithLease(provider, providerKey, renter, renterKey, 'chain-a');
    expect(await balance(providerKey.publicKey)).toBe(50_000_000 - PER_GPU);
    expect(await balance(local.treasury.publicKey)).toBe(treasury0 + PER_GPU + quote.total);

    const ended = await Promise.all(Array.from({ length: 50 }, () => coord.server.service.endLease(lease.id, 'failed', Date.now(), { reason: 'node fault (test)', nodeFault: true })));
    expect(ended.filter(Boolean)).toHaveLength(1);
    await coord.server.service.payouts!.idle();
    const slash = PER_GPU / 5;
    const award = slash / 2;
    const refund = (await renter.lease(lease.id)).refund;
    expect(refund).toBeGreaterThan(0);
    // The renter: paid, then the refund and the slash award, each once.
    expect(await balance(renterKey.publicKey)).toBe(50_000_000 - quote.total + refund + award);

    await provider.unbond(node.id, {});
    await coord.server.sweep();
    await coord.server.service.payouts!.idle();
    expect(await balance(providerKey.publicKey)).toBe(50_000_000 - slash);
    expect(await balance(local.treasury.publicKey)).toBe(treasury0 + quote.total - refund + (slash - award));

    // The ledger says the same, row by row.
    const db = coord.server.service.engine.db;
    expect(await ledgerSums(db, providerKey.publicKey)).toEqual({ bond: PER_GPU, bond_slash: -slash, bond_return: -(PER_GPU - slash) });
    expect(await ledgerSums(db, renterKey.publicKey)).toMatchObject({ payment: quote.total, refund, refund_payout: -refund, slash_award: award, slash_payout: -award });
    const paid = await db.selectFrom('claims').select(['kind', 'amount', 'state']).where('state', '=', 'paid').where('owner', 'in', [providerKey.publicKey, renterKey.publicKey]).orderBy('kind').execute();
    expect(paid.map((p) => [p.kind, Number(p.amount)])).toEqual([['refund', refund], ['slash', award], ['unbond', PER_GPU - slash]]);
  }, 120_000);
});

describe('a slash payout across kill -9 between signing and confirmation', () => {
  const crash = chainCrashCoordinators(() => net.solana, { heartbeatGraceMs: 600_000 });
  const start = crash.start;

  it('pays the renter its slash share exactly once (and the refund once) after a kill -9 mid-payout', async () => {
    const providerKey = await funded(50_000_000n);
    const renterKey = await funded(50_000_000n);
    // Set up on a coordinator without pauses.
    const setup = await start();
    const client = (k: Keypair) => createApiClient({ baseUrl: setup.url, keypair: k, timeoutMs: 60_000 });
    const { node, lease, quote } = await bondedNodeWithLease(client(providerKey), providerKey, client(renterKey), renterKey, 'chain-crash');
    await kill9(setup.child);

    // The node fault happens on a coordinator that pauses after signing each payout; it dies there.
    const seed = await openDatabase(crash.location());
    await seed.db.updateTable('nodes').set({ last_heartbeat_at: Date.now() - 3_600_000 }).where('id', '=', node.id).execute();
    await seed.close();
    const crashing = await start('signed');
    // Its sweep (on start, heartbeat grace exceeded) fails the lease by node fault; the refund and slash payouts sign, then pause.
    await crashing.paused;
    await kill9(crashing.child);
    expect(await balance(renterKey.publicKey)).toBe(50_000_000 - quote.total);

    // Restart: recovery settles every open payout from the chain, each exactly once; later restarts change nothing.
    const final = await start();
    const refund = (await createApiClient({ baseUrl: final.url, keypair: renterKey }).lease(lease.id)).refund;
    const award = PER_GPU / 5 / 2;
    expect(refund).toBeGreaterThan(0);
    const expected = 50_000_000 - quote.total + refund + award;
    let seen = 0;
    await waitFor('the renter balance after recovery', async () => (seen = await balance(renterKey.publicKey)) === expected, { timeoutMs: 30_000, intervalMs: 200, context: () => `renter balance ${seen}, expected ${expected}` });
    await kill9(final.child);
    await kill9((await start()).child);
    expect(await balance(renterKey.publicKey)).toBe(expected);
    const db = await openDatabase(crash.location());
    try {
      const payouts = await db.db.selectFrom('claims').select(['kind', 'state', 'amount']).where('owner', '=', renterKey.publicKey).execute();
      expect(payouts.map((p) => [p.kind, p.state, Number(p.amount)]).sort()).toEqual([['refund', 'paid', refund], ['slash', 'paid', award]]);
      expect(await db.db.selectFrom('slashes').select('trigger').where('node_id', '=', node.id).execute()).toHaveLength(1);
    } finally {
      await db.close();
    }
  }, 120_000);
});
