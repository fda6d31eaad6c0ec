// The renter's side of paying, on the real local chain: balance checks (exit 4 + how to fund), the treasury's token
// account found from its owner, and a signed payment that simulates cleanly without being sent.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkInfo } from '../../src/api/schemas/network.js';
import { bootstrapLocalNetwork, fundFromFaucet, type LocalNetwork } from '../../src/chain/bootstrap.js';
import { startLocalChain, type LocalChain } from '../../src/chain/local-chain.js';
import { ensureAffordable, preparePayment, resolveTreasuryTokenAccount, simulatePayment } from '../../src/renter/payment.js';
import { payFor } from '../../src/renter/pay.js';
import { explorerLink } from '../../src/wallet/explorer.js';
import { generateKeypair } from '../../src/wallet/keypair.js';
import { decodeLeasePayment, verifyLeasePayment } from '../../src/wallet/payment.js';
import { fetchWalletBalances } from '../../src/wallet/rpc.js';

let dataDir: string;
let chain: LocalChain;
let local: LocalNetwork;
let network: NetworkInfo;
const renter = generateKeypair();

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'iocli-renter-pay-'));
  chain = await startLocalChain({ dataDir });
  local = await bootstrapLocalNetwork(chain.rpcUrl, { dataDir });
  await fundFromFaucet(chain.rpcUrl, local, renter.publicKey, { sol: 1, tokens: 5_000_000n });
  // The coordinator names the treasury's owner wallet; the CLI must find its token account itself.
  network = { cluster: 'localnet', rpcUrl: chain.rpcUrl, mint: local.mint, decimals: 6, treasury: local.treasury.publicKey, feeBps: 500, dev: true };
});
afterAll(async () => {
  await chain?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('renter payments on the local chain', () => {
  it('finds the treasury token account from either its owner or the account itself', async () => {
    expect(await resolveTreasuryTokenAccount(network, chain.rpcUrl)).toBe(local.treasury.tokenAccount);
    expect(await resolveTreasuryTokenAccount({ ...network, treasury: local.treasury.tokenAccount }, chain.rpcUrl)).toBe(local.treasury.tokenAccount);
  });

  it.each([
    [5_000_000, null],
    [5_000_001, /iocli wallet airdrop --tokens 1\b/],
    [12_000_000, /iocli wallet airdrop --tokens 7\b/],
  ])('a cost of %d base units: %s', async (amount, hint) => {
    const check = ensureAffordable({ network, rpcUrl: chain.rpcUrl, payer: renter, amount, reference: 'q' });
    if (hint === null) await expect(check).resolves.toMatchObject({ tokenBalance: 5_000_000 });
    else await expect(check).rejects.toMatchObject({ exitCode: 4, code: 'INSUFFICIENT_BALANCE', hint: expect.stringMatching(hint) });
  });

  it('a wallet with tokens but no SOL cannot pay the fee', async () => {
    const poor = generateKeypair();
    await fundFromFaucet(chain.rpcUrl, local, poor.publicKey, { tokens: 1_000_000n });
    await expect(ensureAffordable({ network, rpcUrl: chain.rpcUrl, payer: poor, amount: 1, reference: 'q' })).rejects.toMatchObject({ exitCode: 4, code: 'INSUFFICIENT_SOL' });
  });

  it('builds a payment the coordinator would accept, simulates it, and sends nothing', async () => {
    const prepared = await preparePayment({ network, rpcUrl: chain.rpcUrl, payer: renter, amount: 3_000_000, reference: 'q_test_1' });
    expect(prepared.destination).toBe(local.treasury.tokenAccount);
    const decoded = decodeLeasePayment(prepared.transaction);
    expect(verifyLeasePayment(decoded, { mint: local.mint, treasuryTokenAccount: local.treasury.tokenAccount, amount: 3_000_000n, quoteId: 'q_test_1' })).toEqual([]);
    const simulation = await simulatePayment(chain.rpcUrl, prepared);
    expect(simulation).toMatchObject({ ok: true, err: null });
    expect((await fetchWalletBalances(chain.rpcUrl, renter.publicKey, local.mint)).token?.amount).toBe('5000000');
  });

  it('a payment larger than the balance fails in simulation', async () => {
    const prepared = await preparePayment({ network, rpcUrl: chain.rpcUrl, payer: renter, amount: 9_000_000, reference: 'q_test_2' });
    expect((await simulatePayment(chain.rpcUrl, prepared)).ok).toBe(false);
  });

  it('payFor: a dry run signs and simulates without asking or sending; a real run hands the signed payment to the request', async () => {
    const events: string[] = [];
    const base = {
      network,
      rpcUrl: chain.rpcUrl,
      payer: renter,
      amount: 2_000_000,
      reference: 'extend:lease_x:3',
      checkAffordable: true,
      idempotencyKey: 'key-123456',
      retryCommand: 'iocli lease extend lease_x --hours 1',
      confirm: async () => void events.push('confirm'),
      progress: async (text: string) => (events.push(`progress ${text}`), { update: () => {}, succeed: () => events.push('succeed'), fail: () => events.push('fail') }),
      text: { paying: 'Paying', failed: 'Not extended', done: () => 'Extended' },
    };
    const sent: string[] = [];
    const submit = async (transaction: string | undefined) => (sent.push(transaction!), { id: 'lease_x', paymentSignature: 'RecordedByTheCoordinator1111111111111111111111111111111111111111' });
    const dry = await payFor({ ...base, dryRun: true, submit });
    expect(dry).toMatchObject({ dryRun: true, payment: { amount: 2_000_000, simulation: { ok: true, err: null } } });
    expect(events).toEqual([]);
    expect(sent).toEqual([]);

    const paid = await payFor({ ...base, dryRun: false, submit, recordedSignature: (r) => r.paymentSignature });
    expect(events).toEqual(['confirm', 'progress Paying', 'succeed']);
    expect(sent).toHaveLength(1);
    const decoded = decodeLeasePayment(sent[0]!);
    expect(verifyLeasePayment(decoded, { mint: local.mint, treasuryTokenAccount: local.treasury.tokenAccount, amount: 2_000_000n, quoteId: 'extend:lease_x:3' })).toEqual([]);
    // The coordinator's record wins (a replayed request answers with the first payment), with its explorer link.
    expect(paid).toMatchObject({ dryRun: false, payment: { amount: 2_000_000, signature: 'RecordedByTheCoordinator1111111111111111111111111111111111111111' } });
    expect(!paid.dryRun && paid.payment?.explorer).toBe(explorerLink('RecordedByTheCoordinator1111111111111111111111111111111111111111', chain.rpcUrl));
  });

  it('payFor: a cost above the balance stops before the question (exit 4)', async () => {
    let asked = false;
    const attempt = payFor({
      network, rpcUrl: chain.rpcUrl, payer: renter, amount: 50_000_000, reference: 'q_big', checkAffordable: true, dryRun: false,
      idempotencyKey: 'key-123456', retryCommand: 'x', confirm: async () => void (asked = true),
      progress: async () => ({ update: () => {}, succeed: () => {}, fail: () => {} }),
      text: { paying: 'p', failed: 'f', done: () => 'd' }, submit: async () => ({}),
    });
    await expect(attempt).rejects.toMatchObject({ exitCode: 4, code: 'INSUFFICIENT_BALANCE' });
    expect(asked).toBe(false);
  });
});
