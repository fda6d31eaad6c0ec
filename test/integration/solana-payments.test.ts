// The money loop on the local chain through the real coordinator: faucet → quote → pay → run → stop (refund on chain)
// → claim; rejected payments schedule nothing; 50 concurrent claims pay once. Balances are read from the chain.
import type { Connection } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { LocalNetwork } from '../../src/chain/bootstrap.js';
import type { LocalChain } from '../../src/chain/local-chain.js';
import { createSolanaHooks, type SolanaHooks } from '../../src/coordinator/solana-payments.js';
import type { Keypair } from '../../src/wallet/keypair.js';
import { associatedTokenAddress, buildLeasePayment } from '../../src/wallet/payment.js';
import { sendRawAndConfirm } from '../../src/wallet/payout.js';
import { startTestLocalNetwork, type TestLocalNetwork } from '../support/chain.js';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

const PRICE = 600_000; // base units per GPU-hour
const FEE_BPS = 1000;
const MINUTE = 60_000;

let net: TestLocalNetwork;
let chain: LocalChain;
let connection: Connection;
let local: LocalNetwork;
let hooks: SolanaHooks;

beforeAll(async () => {
  net = await startTestLocalNetwork('iocli-money-', { faucet: true });
  ({ chain, connection, local } = net);
  hooks = await createSolanaHooks(net.solana);
});

afterAll(async () => {
  await net?.close();
});

const tokenBalance = (owner: string) => net.tokenBalance(owner);
const treasuryBalance = () => tokenBalance(local.treasury.publicKey);

describe.each(ENGINES)('Solana payments through the coordinator on %s', (engine) => {
  let coordinator: TestCoordinator;
  let clock = Date.now();
  const renter = newKeypair();

  beforeAll(async () => {
    coordinator = await startTestCoordinator(engine, {
      dev: true,
      feeBps: FEE_BPS,
      now: () => clock,
      // The test moves the server clock; requests are still signed with the real one.
      maxClockSkewMs: 3_600_000,
      network: { ...hooks.network, cluster: 'localnet' },
      paymentVerifier: hooks.paymentVerifier,
      payoutSender: hooks.payoutSender,
      faucet: hooks.faucet,
      faucetPerMinute: 1_000,
    });
    await coordinator.client().faucet({ address: renter.publicKey, tokens: '100', sol: 1 });
  });
  afterAll(async () => {
    await coordinator?.close();
  });

  async function pay(client: ApiClient, payer: Keypair, quote: { quoteId: string; total: number }, overrides: Partial<Parameters<typeof buildLeasePayment>[0]> = {}) {
    const payment = await buildLeasePayment({ connection, payer, mint: local.mint, treasuryTokenAccount: local.treasury.tokenAccount, amount: BigInt(quote.total), quoteId: quote.quoteId, ...overrides });
    return { payment, lease: () => client.createLease({ quoteId: quote.quoteId, payment: { transaction: payment.transactionBase64 } }) };
  }

  /** A provider with one GPU, a paid 1-hour lease on it, confirmed running for `minutes` (+5 s). */
  async function paidRunningLease(minutes: number) {
    const provider = newKeypair();
    const p = coordinator.client(provider);
    const r = coordinator.client(renter);
    // A region of its own, so the quote lands on this provider's node and not on one left free by another test.
    const region = `r-${provider.publicKey.slice(0, 8)}`;
    const node = await p.registerNode(nodeSpec({ gpuCount: 1, pricePerGpuHour: PRICE, region }));
    const quote = await r.quote({ gpus: 1, image: 'busybox', hours: 1, region });
    const lease = await (await pay(r, renter, quote)).lease();
    expect(lease.state).toBe('scheduled');
    await p.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }] });
    clock += minutes * MINUTE + 5_000;
    await p.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'running' }] });
    return { provider, p, r, node, quote, lease };
  }

  it('network and faucet: symbol, mint, and test tokens land on chain', async () => {
    const info = await coordinator.client().network();
    expect(info).toMatchObject({ mint: local.mint, treasury: local.treasury.publicKey, symbol: 'IOC', faucet: true, dev: true });
    const someone = newKeypair();
    const grant = await coordinator.client().faucet({ address: someone.publicKey, tokens: '2.5' });
    expect(grant).toMatchObject({ address: someone.publicKey, amount: 2_500_000, signature: expect.any(String) });
    expect(await tokenBalance(someone.publicKey)).toBe(2_500_000);
  });

  it('runs the money loop: pay, run, stop early (refund on chain), claim; on-chain balances add up exactly', async () => {
    const renterBefore = await tokenBalance(renter.publicKey);
    const treasuryBefore = await treasuryBalance();
    const { provider, p, r, lease, quote } = await paidRunningLease(10);
    expect(quote.total).toBe(PRICE);
    expect(await treasuryBalance()).toBe(treasuryBefore + PRICE);

    const stop = await r.stopLease(lease.id);
    // 10 min 5 s of use is charged as 11 minutes; the other 49 come back.
    const charged = Math.ceil((PRICE * 11) / 60);
    expect(stop.refund).toBe(PRICE - charged);
    expect(stop.refundSignature).toEqual(expect.any(String));
    expect((await r.lease(lease.id)).refundSignature).toBe(stop.refundSignature);
    expect(await tokenBalance(renter.publicKey)).toBe(renterBefore - charged);

    // Stopped while running: the provider is paid for the same 11 started minutes the renter is billed,
    // 600_000/h × 11/60 = 110_000 gross; 10% fee → 99_000 to the provider, 11_000 stays in the treasury.
    const claim = await p.claimRewards();
    expect(claim).toMatchObject({ amount: 99_000, state: 'paid', signature: expect.any(String) });
    expect(await tokenBalance(provider.publicKey)).toBe(99_000);
    const fee = 11_000;
    expect(charged).toBe(99_000 + fee);
    expect(await treasuryBalance()).toBe(treasuryBefore + fee);
    expect((await tokenBalance(renter.publicKey)) + (await treasuryBalance()) + (await tokenBalance(provider.publicKey))).toBe(renterBefore + treasuryBefore);

    const rewards = await p.rewards();
    expect(rewards).toMatchObject({ accrued: 99_000, claimed: 99_000, claimable: 0, pending: 0 });
    expect(rewards.history?.claims).toEqual([expect.objectContaining({ id: claim.id, signature: claim.signature, state: 'paid' })]);
    expect(rewards.history?.ledger.map((l) => [l.kind, l.amount])).toEqual([
      ['claim', -99_000],
      ['accrual', 99_000],
    ]);
  });

  it('rejects tampered, misdirected, reused and expired payments and schedules nothing', async () => {
    const provider = newKeypair();
    const p = coordinator.client(provider);
    const r = coordinator.client(renter);
    await p.registerNode(nodeSpec({ gpuCount: 1, pricePerGpuHour: PRICE }));
    const leasesBefore = (await r.leases({ all: true })).leases.length;
    const balanceBefore = await tokenBalance(renter.publicKey);
    const quote = await r.quote({ gpus: 1, image: 'busybox', hours: 1 });
    // The quote holds its GPU (on this node or an equally priced one from an earlier test) until it lapses.
    const quotedNode = quote.placement[0]!.nodeId;
    const freeGpus = async () => (await coordinator.client().offers()).offers.find((o) => o.nodeId === quotedNode)?.freeGpus ?? 0;
    const totalGpus = (await coordinator.client().offers()).offers.find((o) => o.nodeId === quotedNode)?.totalGpus ?? 1;

    const otherMint = newKeypair().publicKey;
    const cases: Array<[string, () => Promise<unknown>, string]> = [
      ['amount below the quote', (await pay(r, renter, quote, { amount: BigInt(quote.total - 1) })).lease, 'PAYMENT_REJECTED'],
      ['wrong mint', (await pay(r, renter, quote, { mint: otherMint })).lease, 'PAYMENT_REJECTED'],
      ['wrong destination', (await pay(r, renter, quote, { treasuryTokenAccount: associatedTokenAddress(renter.publicKey, local.mint) })).lease, 'PAYMENT_REJECTED'],
    ];
    // Bytes edited after signing: the amount field no longer matches the signature.
    const good = await pay(r, renter, quote);
    const bytes = Buffer.from(good.payment.transactionBase64, 'base64');
    const at = bytes.indexOf(Buffer.from(new BigUint64Array([BigInt(quote.total)]).buffer));
    bytes.writeBigUInt64LE(BigInt(quote.total * 2), at);
    const tampered = Buffer.from(bytes).toString('base64');
    cases.push(['tampered bytes', () => r.createLease({ quoteId: quote.quoteId, payment: { transaction: tampered } }), 'PAYMENT_REJECTED']);
    for (const [name, attempt, code] of cases) {
      const error = (await attempt().catch((e: unknown) => e)) as { code?: string; status?: number; message?: string };
      expect(error, name).toMatchObject({ code, status: 402 });
    }
    const amountError = (await (await pay(r, renter, quote, { amount: BigInt(quote.total - 1) })).lease().catch((e: unknown) => e)) as Error;
    expect(amountError.message).toMatch(/Pays 599999 base units, the quote is 600000/);

    // An expired blockhash: refused before anything is submitted.
    const stale = await pay(r, renter, quote);
    chain.advanceSlots(200);
    await expect(stale.lease()).rejects.toMatchObject({ code: 'PAYMENT_EXPIRED', status: 402 });

    // Nothing was scheduled or charged so far.
    expect((await r.leases({ all: true })).leases).toHaveLength(leasesBefore);
    // Held for the quote, not leased: the node offers all its GPUs but the held one.
    expect(await freeGpus()).toBe(totalGpus - 1);
    expect(await tokenBalance(renter.publicKey)).toBe(balanceBefore);

    // The good payment pays once; the same transaction for another quote is refused without reaching the chain.
    const fresh = await pay(r, renter, quote);
    const lease = await fresh.lease();
    expect(lease.paymentSignature).toBe(fresh.payment.signature);
    await p.registerNode(nodeSpec({ gpuCount: 1, pricePerGpuHour: PRICE })); // capacity for quote2
    const quote2 = await r.quote({ gpus: 1, image: 'busybox', hours: 1 });
    await expect(r.createLease({ quoteId: quote2.quoteId, payment: { transaction: fresh.payment.transactionBase64 } })).rejects.toMatchObject({ code: 'PAYMENT_REUSED', status: 409 });
    await expect(r.createLease({ quoteId: quote.quoteId, payment: { transaction: fresh.payment.transactionBase64 } })).rejects.toMatchObject({ code: 'QUOTE_USED', status: 409 });
    // Two different payments for one quote at once: one lands, the other is refused before it reaches the chain.
    const [a, b] = await Promise.all([pay(r, renter, quote2), pay(r, renter, quote2)]);
    const raced = await Promise.allSettled([a.lease(), b.lease()]);
    expect(raced.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
    expect(raced.find((x) => x.status === 'rejected')).toMatchObject({ reason: { status: 409 } });
    await r.stopLease((raced.find((x) => x.status === 'fulfilled') as PromiseFulfilledResult<{ id: string }>).value.id);
    await r.stopLease(lease.id);

    // An expired quote: refused before the payment is looked at.
    const quote3 = await r.quote({ gpus: 1, image: 'busybox', hours: 1 });
    const late = await pay(r, renter, quote3);
    clock += 10 * MINUTE;
    await expect(late.lease()).rejects.toMatchObject({ code: 'QUOTE_EXPIRED', status: 410 });
    expect((await r.leases({ all: true })).leases).toHaveLength(leasesBefore + 2);
    // On chain the renter paid exactly what the two stopped leases kept (each refund landed).
    const kept = (await r.leases({ all: true })).leases.slice(0, 2).reduce((n, l) => n + l.totalPaid - l.refund, 0);
    expect(await tokenBalance(renter.publicKey)).toBe(balanceBefore - kept);
  });

  it('refunds a lease that failed on its node on chain, in the background', async () => {
    const before = await tokenBalance(renter.publicKey);
    const { p, r, node, lease } = await paidRunningLease(2);
    await p.heartbeat(node.id, { containers: [{ leaseId: lease.id, state: 'failed', exitCode: 1 }] });
    await coordinator.server.service.payouts!.idle();
    const failed = await r.lease(lease.id);
    expect(failed).toMatchObject({ state: 'failed', refundSignature: expect.any(String) });
    expect(failed.refund).toBe(PRICE - Math.ceil((PRICE * 3) / 60));
    expect(await tokenBalance(renter.publicKey)).toBe(before - (PRICE - failed.refund));
  });

  it('refunds a payment that landed but never became a lease (cut off by a crash), and drops one that never landed', async () => {
    const before = await tokenBalance(renter.publicKey);
    const landed = await buildLeasePayment({ connection, payer: renter, mint: local.mint, treasuryTokenAccount: local.treasury.tokenAccount, amount: 777_000n, quoteId: 'q_orphan' });
    expect((await sendRawAndConfirm(connection, landed.transactionBase64, landed.lastValidBlockHeight, { pollMs: 20 })).status).toBe('confirmed');
    const db = coordinator.server.service.engine.db;
    const old = clock - 10 * MINUTE;
    await db.insertInto('payments').values({ signature: landed.signature, reference: 'q_orphan', renter: renter.publicKey, amount: 777_000, state: 'pending', created_at: old }).execute();
    await db.insertInto('payments').values({ signature: 'never-landed-signature', reference: 'q_lost', renter: renter.publicKey, amount: 5, state: 'pending', created_at: old }).execute();
    expect(await tokenBalance(renter.publicKey)).toBe(before - 777_000);
    expect(await coordinator.server.service.recoverPayments()).toBe(1);
    expect(await tokenBalance(renter.publicKey)).toBe(before);
    expect(await db.selectFrom('payments').select(['signature', 'state']).where('reference', 'in', ['q_orphan', 'q_lost']).execute()).toEqual([{ signature: landed.signature, state: 'refunded' }]);
    expect(await coordinator.server.service.recoverPayments()).toBe(0);
  });

  it('pays 50 concurrent claims exactly once', async () => {
    const { provider, p, r, lease } = await paidRunningLease(5);
    await r.stopLease(lease.id);
    const expected = (await p.rewards()).claimable;
    expect(expected).toBe(54_000); // 6 started minutes at 600_000/h, minus the 10% fee
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => p.claimRewards()));
    const paid = results.filter((x) => x.status === 'fulfilled');
    expect(paid).toHaveLength(1);
    for (const x of results) if (x.status === 'rejected') expect(x.reason).toMatchObject({ code: 'NOTHING_TO_CLAIM' });
    expect(await tokenBalance(provider.publicKey)).toBe(expected);
    expect(await p.rewards()).toMatchObject({ claimed: expected, claimable: 0, pending: 0 });
  });
});

describe('faucet guards', () => {
  it('refuses outside --dev, without the mint authority, and past its rate limit', async () => {
    const prod = await startTestCoordinator('sqlite', { dev: false, faucet: hooks.faucet });
    const bare = await startTestCoordinator('sqlite', { dev: true });
    const limited = await startTestCoordinator('sqlite', { dev: true, faucet: hooks.faucet, faucetPerMinute: 2 });
    try {
      const address = newKeypair().publicKey;
      await expect(prod.client().faucet({ address })).rejects.toMatchObject({ status: 403, code: 'FAUCET_DEV_ONLY' });
      await expect(bare.client().faucet({ address })).rejects.toMatchObject({ code: 'FAUCET_UNAVAILABLE', message: expect.stringMatching(/mint authority/) });
      expect((await bare.client().network()).faucet).toBe(false);
      await expect(limited.client().faucet({ address, tokens: '0.0000001' })).rejects.toMatchObject({ status: 400 });
      await expect(limited.client().faucet({ address, tokens: 2_000_000 })).rejects.toMatchObject({ code: 'FAUCET_LIMIT' });
      await limited.client().faucet({ address, tokens: 1 });
      await limited.client().faucet({ address, tokens: '1.5' });
      await expect(limited.client().faucet({ address, tokens: 1 })).rejects.toMatchObject({ code: 'FAUCET_RATE_LIMITED' });
      expect(await tokenBalance(address)).toBe(2_500_000);
    } finally {
      await Promise.all([prod.close(), bare.close(), limited.close()]);
    }
  });
});
