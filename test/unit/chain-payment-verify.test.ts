// verifyLeasePayment on real signed transactions, including tampered ones; no network.
import { Transaction, PublicKey, SystemProgram } from '@solana/web3.js';
import bs58 from 'bs58';
import { describe, expect, it } from 'vitest';
import { generateKeypair } from '../../src/wallet/keypair.js';
import {
  associatedTokenAddress,
  buildLeasePayment,
  decodeLeasePayment,
  memoInstruction,
  signTransaction,
  transferCheckedInstruction,
  verifyLeasePayment,
} from '../../src/wallet/payment.js';

const payer = generateKeypair();
const mint = generateKeypair().publicKey;
const otherMint = generateKeypair().publicKey;
const treasuryTokenAccount = generateKeypair().publicKey;
const blockhash = bs58.encode(Buffer.alloc(32, 9));
const connection = { getLatestBlockhash: async () => ({ blockhash, lastValidBlockHeight: 1234 }) };
const expected = { mint, treasuryTokenAccount, amount: 2_500_000n, quoteId: 'q_123' };

async function payment(overrides: Partial<typeof expected> = {}) {
  const built = await buildLeasePayment({ connection, payer, ...expected, ...overrides });
  return built;
}

/** Re-signs a hand-made transaction, the way an attacker with their own key would. */
function custom(build: (tx: Transaction) => void): string {
  const tx = new Transaction({ feePayer: new PublicKey(payer.publicKey), blockhash, lastValidBlockHeight: 1 });
  build(tx);
  return signTransaction(tx, [payer]).transactionBase64;
}

const codes = (base64: string) => verifyLeasePayment(decodeLeasePayment(base64), expected).map((problem) => problem.code);

describe('lease payments', () => {
  it('builds a payment that decodes to exactly what was asked and verifies clean', async () => {
    const built = await payment();
    expect(built.lastValidBlockHeight).toBe(1234);
    const decoded = decodeLeasePayment(built.transactionBase64);
    expect(decoded).toMatchObject({
      signature: built.signature,
      payer: payer.publicKey,
      owner: payer.publicKey,
      source: associatedTokenAddress(payer.publicKey, mint),
      destination: treasuryTokenAccount,
      mint,
      amount: 2_500_000n,
      decimals: 6,
      memo: 'iocli:quote:q_123',
      recentBlockhash: blockhash,
    });
    expect(verifyLeasePayment(decoded, expected)).toEqual([]);
  });

  it.each([
    ['wrong amount', { amount: 2_499_999n }, 'AMOUNT_MISMATCH'],
    ['wrong mint', { mint: otherMint }, 'WRONG_MINT'],
    ['wrong destination', { treasuryTokenAccount: generateKeypair().publicKey }, 'WRONG_DESTINATION'],
    ['wrong memo', { quoteId: 'q_other' }, 'MEMO_MISMATCH'],
  ])('flags a payment with the %s', async (_name, overrides, code) => {
    const built = await payment(overrides);
    expect(codes(built.transactionBase64)).toEqual([code]);
  });

  it('flags bytes tampered after signing: amount changed in place', async () => {
    const built = await payment();
    const bytes = Buffer.from(built.transactionBase64, 'base64');
    const needle = Buffer.alloc(8);
    needle.writeBigUInt64LE(2_500_000n);
    const at = bytes.indexOf(needle);
    expect(at).toBeGreaterThan(0);
    bytes.writeBigUInt64LE(2_500_001n, at);
    const problems = codes(bytes.toString('base64'));
    expect(problems).toContain('AMOUNT_MISMATCH');
    expect(problems).toContain('INVALID_SIGNATURE');
  });

  it('flags a signature that does not match, even when the content is right', async () => {
    const built = await payment();
    const bytes = Buffer.from(built.transactionBase64, 'base64');
    bytes[5] ^= 0xff; // inside the first signature
    expect(codes(bytes.toString('base64'))).toEqual(['INVALID_SIGNATURE']);
  });

  it('flags extra instructions and transfers by an authority that did not sign', () => {
    const extra = custom((tx) =>
      tx.add(
        transferCheckedInstruction({ source: associatedTokenAddress(payer.publicKey, mint), mint, destination: treasuryTokenAccount, owner: payer.publicKey, amount: 2_500_000n, decimals: 6 }),
        memoInstruction('iocli:quote:q_123', payer.publicKey),
        SystemProgram.transfer({ fromPubkey: new PublicKey(payer.publicKey), toPubkey: new PublicKey(treasuryTokenAccount), lamports: 1 }),
      ),
    );
    expect(codes(extra)).toEqual(['UNEXPECTED_INSTRUCTION']);

    const stranger = generateKeypair().publicKey;
    const unsignedOwner = Buffer.from(
      new Transaction({ feePayer: new PublicKey(payer.publicKey), blockhash, lastValidBlockHeight: 1 })
        .add(transferCheckedInstruction({ source: associatedTokenAddress(stranger, mint), mint, destination: treasuryTokenAccount, owner: stranger, amount: 2_500_000n, decimals: 6 }))
        .add(memoInstruction('iocli:quote:q_123', payer.publicKey))
        .serialize({ requireAllSignatures: false, verifySignatures: false }),
    ).toString('base64');
    const problems = codes(unsignedOwner);
    expect(problems).toContain('INVALID_SIGNATURE'); // stranger's signature slot is empty
  });

  it('flags a transaction with no transfer and rejects non-transactions', () => {
    const memoOnly = custom((tx) => tx.add(memoInstruction('iocli:quote:q_123', payer.publicKey)));
    expect(codes(memoOnly)).toEqual(['NO_TRANSFER']);
    expect(() => decodeLeasePayment(Buffer.from('hello').toString('base64'))).toThrow(/not a valid Solana transaction/);
  });
});
