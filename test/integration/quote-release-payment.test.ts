// Releasing a quote and paying for it exclude each other, with real payments on the local chain: a released quote's
// transfer is refused before it reaches the chain, and a quote whose payment was received cannot be released.
import type { Connection } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalNetwork } from '../../src/chain/bootstrap.js';
import type { PaymentVerifier } from '../../src/coordinator/hooks.js';
import { createSolanaHooks, type SolanaHooks } from '../../src/coordinator/solana-payments.js';
import { buildLeasePayment } from '../../src/wallet/payment.js';
import { startTestLocalNetwork, type TestLocalNetwork } from '../support/chain.js';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

let net: TestLocalNetwork;
let connection: Connection;
let local: LocalNetwork;
let hooks: SolanaHooks;

beforeAll(async () => {
  net = await startTestLocalNetwork('iocli-release-', { faucet: true });
  ({ connection, local } = net);
  hooks = await createSolanaHooks(net.solana);
});
afterAll(async () => {
  await net?.close();
});

describe.each(ENGINES)('quote release against payments on %s', (engine) => {
  let coordinator: TestCoordinator;
  const renter = newKeypair();
  /** Opened by a test to let a payment go on once it is reserved (the real verifier, paused at that one point). */
  let afterReserve: ((signature: string) => Promise<void>) | undefined;
  let beforeReserve: (() => Promise<void>) | undefined;
  const verifier: PaymentVerifier = {
    verify: (request) => hooks.paymentVerifier.verify({ ...request, reserve: async (signature) => {
      await beforeReserve?.();
      await request.reserve!(signature);
      await afterReserve?.(signature);
    } }),
  };

  beforeAll(async () => {
    coordinator = await startTestCoordinator(engine, { dev: true, network: { ...hooks.network, cluster: 'localnet' }, paymentVerifier: verifier, payoutSender: hooks.payoutSender, faucet: hooks.faucet, faucetPerMinute: 1_000 });
    await coordinator.client().faucet({ address: renter.publicKey, tokens: '100', sol: 1 });
    const provider = newKeypair();
    const node = await coordinator.client(provider).registerNode(nodeSpec({ gpuCount: 1, pricePerGpuHour: 600_000 }));
    await coordinator.client(provider).heartbeat(node.id, { gpus: [], containers: [] });
  });
  afterAll(async () => {
    await coordinator?.close();
  });

  const payment = (quote: { quoteId: string; total: number }) =>
    buildLeasePayment({ connection, payer: renter, mint: local.mint, treasuryTokenAccount: local.treasury.tokenAccount, amount: BigInt(quote.total), quoteId: quote.quoteId });

  it('a released quote cannot be paid for: its signed transfer is refused and never reaches the chain', async () => {
    const r = coordinator.client(renter);
    const quote = await r.quote({ gpus: 1, image: 'busybox', hours: 1 });
    const signed = await payment(quote);
    await r.releaseQuote(quote.quoteId);
    const before = await net.tokenBalance(renter.publicKey);
    await expect(r.createLease({ quoteId: quote.quoteId, payment: { transaction: signed.transactionBase64 } })).rejects.toMatchObject({ status: 410, code: 'QUOTE_RELEASED' });
    expect(await connection.getSignatureStatus(signed.signature).then((s) => s.value)).toBeNull();
    expect(await net.tokenBalance(renter.publicKey)).toBe(before);
  });

  it('a release between the lease request and its payment reservation wins: the payment is refused before the chain', async () => {
    const r = coordinator.client(renter);
    const quote = await r.quote({ gpus: 1, image: 'busybox', hours: 1 });
    const signed = await payment(quote);
    const before = await net.tokenBalance(renter.publicKey);
    let released!: Promise<unknown>;
    beforeReserve = async () => {
      released = r.releaseQuote(quote.quoteId);
      await released;
    };
    try {
      await expect(r.createLease({ quoteId: quote.quoteId, payment: { transaction: signed.transactionBase64 } })).rejects.toMatchObject({ status: 410, code: 'QUOTE_RELEASED' });
      await expect(released).resolves.toMatchObject({ state: 'released', gpusFreed: 1 });
    } finally {
      beforeReserve = undefined;
    }
    expect(await connection.getSignatureStatus(signed.signature).then((s) => s.value)).toBeNull();
    expect(await net.tokenBalance(renter.publicKey)).toBe(before);
  });

  it('a quote whose payment was received cannot be released (409 QUOTE_PAID); the payment becomes the lease, paid once', async () => {
    const r = coordinator.client(renter);
    const quote = await r.quote({ gpus: 1, image: 'busybox', hours: 1 });
    const signed = await payment(quote);
    const before = await net.tokenBalance(renter.publicKey);
    let reserved!: () => void;
    const isReserved = new Promise<void>((resolve) => (reserved = resolve));
    let goOn!: () => void;
    const mayGoOn = new Promise<void>((resolve) => (goOn = resolve));
    afterReserve = async () => {
      reserved();
      await mayGoOn;
    };
    try {
      const leasing = r.createLease({ quoteId: quote.quoteId, payment: { transaction: signed.transactionBase64 } });
      await isReserved;
      await expect(r.releaseQuote(quote.quoteId)).rejects.toMatchObject({ status: 409, code: 'QUOTE_PAID', details: { signature: signed.signature } });
      goOn();
      const lease = await leasing;
      expect(lease).toMatchObject({ state: 'scheduled', paymentSignature: signed.signature });
      await expect(r.releaseQuote(quote.quoteId)).rejects.toMatchObject({ status: 409, code: 'QUOTE_USED', details: { leaseId: lease.id } });
      expect(await net.tokenBalance(renter.publicKey)).toBe(before - quote.total);
    } finally {
      afterReserve = undefined;
      goOn();
    }
  });
});
