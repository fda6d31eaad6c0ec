// The money path on the local chain: bootstrap, faucet, a lease payment checked and landed, a payout through the outbox helpers.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapLocalNetwork, fundFromFaucet } from '../../src/chain/bootstrap.js';
import type { LocalNetwork } from '../../src/chain/bootstrap.js';
import { startLocalChain } from '../../src/chain/local-chain.js';
import type { LocalChain } from '../../src/chain/local-chain.js';
import { generateKeypair, loadKeypairFile } from '../../src/wallet/keypair.js';
import { associatedTokenAddress, buildLeasePayment, decodeLeasePayment, verifyLeasePayment } from '../../src/wallet/payment.js';
import { buildPayout, getSignatureOutcome, sendRawAndConfirm } from '../../src/wallet/payout.js';

describe('payments on the local chain', () => {
  let dataDir: string;
  let chain: LocalChain;
  let connection: Connection;
  let network: LocalNetwork;
  const renter = generateKeypair();

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'iocli-pay-'));
    chain = await startLocalChain({ dataDir });
    connection = new Connection(chain.rpcUrl, { commitment: 'confirmed', wsEndpoint: chain.wsUrl });
    network = await bootstrapLocalNetwork(connection, { dataDir });
    await fundFromFaucet(chain.rpcUrl, network, renter.publicKey, { sol: 1, tokens: 10_000_000n });
  });
  afterAll(async () => {
    await chain?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('bootstraps a 6-decimal mint and treasury, with 0600 key files, idempotently', async () => {
    expect(network.decimals).toBe(6);
    expect((await stat(network.treasury.keypairPath)).mode & 0o777).toBe(0o600);
    expect(await bootstrapLocalNetwork(chain.rpcUrl, { dataDir })).toEqual(network);
    expect((await connection.getTokenAccountBalance(new PublicKey(network.treasury.tokenAccount))).value.amount).toBe('0');
  });

  it('pays for a lease: build, verify, send, confirm, read back', async () => {
    const built = await buildLeasePayment({ connection, payer: renter, mint: network.mint, treasuryTokenAccount: network.treasury.tokenAccount, amount: 3_000_000n, quoteId: 'q_1' });
    const decoded = decodeLeasePayment(built.transactionBase64);
    expect(verifyLeasePayment(decoded, { mint: network.mint, treasuryTokenAccount: network.treasury.tokenAccount, amount: 3_000_000n, quoteId: 'q_1' })).toEqual([]);
    const outcome = await sendRawAndConfirm(connection, built.transactionBase64, built.lastValidBlockHeight, { pollMs: 20 });
    expect(outcome).toEqual({ status: 'confirmed', signature: built.signature });
    const fetched = await connection.getTransaction(built.signature, { maxSupportedTransactionVersion: 0 });
    expect(fetched?.meta?.err).toBeNull();
    expect(fetched?.meta?.logMessages?.join('\n')).toMatch(/Memo/);
    const treasuryAfter = fetched?.meta?.postTokenBalances?.find((balance) => balance.owner === network.treasury.publicKey);
    expect(treasuryAfter?.uiTokenAmount.amount).toBe('3000000');
    // The same bytes again: a no-op, still one payment.
    expect((await sendRawAndConfirm(connection, built.transactionBase64, built.lastValidBlockHeight, { pollMs: 20 })).status).toBe('confirmed');
    expect((await connection.getTokenAccountBalance(new PublicKey(network.treasury.tokenAccount))).value.amount).toBe('3000000');
  });

  it('pays out from the treasury to a new wallet and reports outcomes', async () => {
    const provider = generateKeypair();
    const treasuryOwner = await loadKeypairFile(network.treasury.keypairPath);
    const payout = await buildPayout({ connection, treasuryOwner, mint: network.mint, destinationOwner: provider.publicKey, amount: 1_000_000n, memo: 'iocli:claim:c_1' });
    expect(await getSignatureOutcome(connection, payout.signature)).toBe('unknown');
    expect((await sendRawAndConfirm(connection, payout.transactionBase64, payout.lastValidBlockHeight, { pollMs: 20 })).status).toBe('confirmed');
    expect(await getSignatureOutcome(connection, payout.signature)).toBe('confirmed');
    expect(payout.destinationTokenAccount).toBe(associatedTokenAddress(provider.publicKey, network.mint));
    expect((await connection.getTokenAccountBalance(new PublicKey(payout.destinationTokenAccount))).value.amount).toBe('1000000');

    // More than the treasury holds: lands as failed (fee spent, nothing moved).
    const tooMuch = await buildPayout({ connection, treasuryOwner, mint: network.mint, destinationOwner: provider.publicKey, amount: 10n ** 12n });
    expect((await sendRawAndConfirm(connection, tooMuch.transactionBase64, tooMuch.lastValidBlockHeight, { pollMs: 20 })).status).toBe('failed');
    expect(await getSignatureOutcome(connection, tooMuch.signature)).toBe('failed');
  });

  it('reports a payout whose blockhash expired before it landed as expired', async () => {
    const treasuryOwner = await loadKeypairFile(network.treasury.keypairPath);
    const payout = await buildPayout({ connection, treasuryOwner, mint: network.mint, destinationOwner: renter.publicKey, amount: 1n });
    chain.advanceSlots(151);
    const outcome = await sendRawAndConfirm(connection, payout.transactionBase64, payout.lastValidBlockHeight, { pollMs: 20 });
    expect(outcome.status).toBe('expired');
    expect(await getSignatureOutcome(connection, payout.signature)).toBe('unknown');
  });
});
