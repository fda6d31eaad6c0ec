// Pure checks behind the payment verifier: who may pay for a quote.
import { describe, expect, it } from 'vitest';
import { paymentProblems } from '../../src/coordinator/solana-payments.js';
import { generateKeypair } from '../../src/wallet/keypair.js';
import { associatedTokenAddress, buildLeasePayment, decodeLeasePayment } from '../../src/wallet/payment.js';

describe('paymentProblems', () => {
  const mint = generateKeypair().publicKey;
  const treasury = associatedTokenAddress(generateKeypair().publicKey, mint);
  const connection = { getLatestBlockhash: async () => ({ blockhash: '11111111111111111111111111111111', lastValidBlockHeight: 100 }) };
  const expected = { mint, decimals: 6, treasuryTokenAccount: treasury };

  it('accepts the renter paying its own quote, and names a payment from another wallet', async () => {
    const renter = generateKeypair();
    const other = generateKeypair();
    const build = (payer: typeof renter) => buildLeasePayment({ connection: connection as never, payer, mint, treasuryTokenAccount: treasury, amount: 1_000n, quoteId: 'q_1' });
    expect(paymentProblems(decodeLeasePayment((await build(renter)).transactionBase64), { renter: renter.publicKey, amount: 1_000, reference: 'q_1' }, expected)).toEqual([]);
    const problems = paymentProblems(decodeLeasePayment((await build(other)).transactionBase64), { renter: renter.publicKey, amount: 1_000, reference: 'q_1' }, expected);
    expect(problems.map((p) => p.code)).toEqual(['WRONG_PAYER']);
    const wrongQuote = paymentProblems(decodeLeasePayment((await build(renter)).transactionBase64), { renter: renter.publicKey, amount: 999, reference: 'q_2' }, expected);
    expect(wrongQuote.map((p) => p.code).sort()).toEqual(['AMOUNT_MISMATCH', 'MEMO_MISMATCH']);
  });
});
