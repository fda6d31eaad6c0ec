// Lease payments: the renter builds and signs an SPL transferChecked to the treasury with a memo naming the quote;
// the coordinator decodes and checks it (pure, no network) before submitting it itself.
// Instructions are encoded here rather than with @solana/spl-token, whose import alone costs ~450 ms of CLI time.

import { createPublicKey, sign as ed25519Sign, verify as ed25519Verify } from 'node:crypto';
import { PublicKey, Transaction, TransactionInstruction, VersionedTransaction } from '@solana/web3.js';
import type { Connection } from '@solana/web3.js';
import bs58 from 'bs58';
import { UserError } from '../errors.js';
import { privateKeyFromSecret } from '../api/signing.js';
import { TOKEN_DECIMALS } from '../domain/money.js';

export const TOKEN_PROGRAM_ID = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA';
export const ASSOCIATED_TOKEN_PROGRAM_ID = 'ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL';
export const MEMO_PROGRAM_ID = 'MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr';
export const COMPUTE_BUDGET_PROGRAM_ID = 'ComputeBudget111111111111111111111111111111';
const SYSTEM_PROGRAM_ID = '11111111111111111111111111111111';
export const QUOTE_MEMO_PREFIX = 'iocli:quote:';
const TRANSFER_CHECKED = 12;

/** What signs: a base58 public key and its 64-byte secret key (keypair.ts's Keypair). */
export interface Signer {
  publicKey: string;
  secretKey: Uint8Array;
}

/** The part of a Connection the builders need; tests may pass a stub. */
export type BlockhashSource = Pick<Connection, 'getLatestBlockhash'>;

export function associatedTokenAddress(owner: string, mint: string): string {
  const [address] = PublicKey.findProgramAddressSync(
    [new PublicKey(owner).toBytes(), new PublicKey(TOKEN_PROGRAM_ID).toBytes(), new PublicKey(mint).toBytes()],
    new PublicKey(ASSOCIATED_TOKEN_PROGRAM_ID),
  );
  return address.toBase58();
}

export function transferCheckedInstruction(a: { source: string; mint: string; destination: string; owner: string; amount: bigint; decimals: number }): TransactionInstruction {
  const data = Buffer.alloc(10);
  data.writeUInt8(TRANSFER_CHECKED, 0);
  data.writeBigUInt64LE(a.amount, 1);
  data.writeUInt8(a.decimals, 9);
  return new TransactionInstruction({
    programId: new PublicKey(TOKEN_PROGRAM_ID),
    keys: [
      { pubkey: new PublicKey(a.source), isSigner: false, isWritable: true },
      { pubkey: new PublicKey(a.mint), isSigner: false, isWritable: false },
      { pubkey: new PublicKey(a.destination), isSigner: false, isWritable: true },
      { pubkey: new PublicKey(a.owner), isSigner: true, isWritable: false },
    ],
    data,
  });
}

export function memoInstruction(text: string, signer: string): TransactionInstruction {
  return new TransactionInstruction({
    programId: new PublicKey(MEMO_PROGRAM_ID),
    keys: [{ pubkey: new PublicKey(signer), isSigner: true, isWritable: false }],
    data: Buffer.from(text, 'utf8'),
  });
}

/** ATA program CreateIdempotent: succeeds whether or not the account exists. */
export function createAssociatedTokenAccountIdempotentInstruction(a: { payer: string; owner: string; mint: string }): TransactionInstruction {
  return new TransactionInstruction({
    programId: new PublicKey(ASSOCIATED_TOKEN_PROGRAM_ID),
    keys: [
      { pubkey: new PublicKey(a.payer), isSigner: true, isWritable: true },
      { pubkey: new PublicKey(associatedTokenAddress(a.owner, a.mint)), isSigner: false, isWritable: true },
      { pubkey: new PublicKey(a.owner), isSigner: false, isWritable: false },
      { pubkey: new PublicKey(a.mint), isSigner: false, isWritable: false },
      { pubkey: new PublicKey(SYSTEM_PROGRAM_ID), isSigner: false, isWritable: false },
      { pubkey: new PublicKey(TOKEN_PROGRAM_ID), isSigner: false, isWritable: false },
    ],
    data: Buffer.from([1]),
  });
}

/** Signs with node:crypto ed25519 (much faster than web3.js's JavaScript signer). */
export function signTransaction(tx: Transaction, signers: Signer[]): { transactionBase64: string; signature: string } {
  const message = tx.serializeMessage();
  for (const signer of signers) tx.addSignature(new PublicKey(signer.publicKey), ed25519Sign(null, message, privateKeyFromSecret(signer.secretKey)));
  const wire = tx.serialize();
  return { transactionBase64: wire.toString('base64'), signature: bs58.encode(tx.signature!) };
}

export function quoteMemo(quoteId: string): string {
  return `${QUOTE_MEMO_PREFIX}${quoteId}`;
}

export interface LeasePaymentRequest {
  connection: BlockhashSource;
  payer: Signer;
  mint: string;
  treasuryTokenAccount: string;
  amount: bigint;
  quoteId: string;
  decimals?: number;
}

export interface SignedTransaction {
  transactionBase64: string;
  signature: string;
  lastValidBlockHeight: number;
}

/** Builds and signs (does not send) the payment for one quote, from the payer's associated token account. */
export async function buildLeasePayment(request: LeasePaymentRequest): Promise<SignedTransaction> {
  if (request.amount <= 0n) throw new UserError('A payment amount must be positive.', { code: 'PAYMENT_INVALID' });
  const { blockhash, lastValidBlockHeight } = await request.connection.getLatestBlockhash('confirmed');
  const payer = request.payer.publicKey;
  const tx = new Transaction({ feePayer: new PublicKey(payer), blockhash, lastValidBlockHeight });
  tx.add(
    transferCheckedInstruction({
      source: associatedTokenAddress(payer, request.mint),
      mint: request.mint,
      destination: request.treasuryTokenAccount,
      owner: payer,
      amount: request.amount,
      decimals: request.decimals ?? TOKEN_DECIMALS,
    }),
    memoInstruction(quoteMemo(request.quoteId), payer),
  );
  return { ...signTransaction(tx, [request.payer]), lastValidBlockHeight };
}

export interface DecodedInstruction {
  programId: string;
  accounts: string[];
  data: Uint8Array;
}

export interface DecodedLeasePayment {
  signature: string;
  /** Fee payer. */
  payer: string;
  /** Token authority of the transfer (the account owner that must sign). */
  owner?: string;
  source?: string;
  destination?: string;
  mint?: string;
  amount?: bigint;
  decimals?: number;
  memo?: string;
  recentBlockhash: string;
  instructions: DecodedInstruction[];
  /** Per required signer: is the signature present, and does it verify over the message? */
  signatures: { publicKey: string; present: boolean; valid: boolean }[];
  usesLookupTables: boolean;
  /** The wire bytes, for submitting after the checks. */
  raw: Uint8Array;
}

/** Decodes a base64 signed transaction. Throws UserError when it is not a transaction at all. */
export function decodeLeasePayment(transactionBase64: string): DecodedLeasePayment {
  let tx: VersionedTransaction;
  const raw = Buffer.from(transactionBase64, 'base64');
  try {
    tx = VersionedTransaction.deserialize(raw);
  } catch (error) {
    throw new UserError(`The payment is not a valid Solana transaction (${(error as Error).message}).`, { code: 'PAYMENT_INVALID' });
  }
  const message = tx.message;
  const keys = message.staticAccountKeys.map((key) => key.toBase58());
  const keyAt = (index: number) => keys[index] ?? `#${index}`;
  const instructions = message.compiledInstructions.map((ix) => ({
    programId: keyAt(ix.programIdIndex),
    accounts: ix.accountKeyIndexes.map(keyAt),
    data: Uint8Array.from(ix.data),
  }));
  const messageBytes = message.serialize();
  const signatures = keys.slice(0, message.header.numRequiredSignatures).map((publicKey, index) => {
    const signature = tx.signatures[index];
    const present = signature !== undefined && signature.some((byte) => byte !== 0);
    return { publicKey, present, valid: present && verifyEd25519(publicKey, messageBytes, signature) };
  });
  const decoded: DecodedLeasePayment = {
    signature: bs58.encode(tx.signatures[0] ?? new Uint8Array(64)),
    payer: keyAt(0),
    recentBlockhash: message.recentBlockhash,
    instructions,
    signatures,
    usesLookupTables: message.addressTableLookups.length > 0,
    raw,
  };
  const transfer = instructions.find((ix) => ix.programId === TOKEN_PROGRAM_ID && ix.data[0] === TRANSFER_CHECKED && ix.data.length === 10);
  if (transfer && transfer.accounts.length >= 4) {
    const view = Buffer.from(transfer.data);
    [decoded.source, decoded.mint, decoded.destination, decoded.owner] = transfer.accounts;
    decoded.amount = view.readBigUInt64LE(1);
    decoded.decimals = view.readUInt8(9);
  }
  const memo = instructions.find((ix) => ix.programId === MEMO_PROGRAM_ID);
  if (memo) decoded.memo = Buffer.from(memo.data).toString('utf8');
  return decoded;
}

export interface ExpectedPayment {
  mint: string;
  treasuryTokenAccount: string;
  amount: bigint;
  quoteId: string;
  decimals?: number;
}

export interface PaymentProblem {
  code:
    | 'NO_TRANSFER'
    | 'WRONG_MINT'
    | 'WRONG_DESTINATION'
    | 'AMOUNT_MISMATCH'
    | 'DECIMALS_MISMATCH'
    | 'MEMO_MISMATCH'
    | 'UNEXPECTED_INSTRUCTION'
    | 'NOT_SIGNED_BY_OWNER'
    | 'INVALID_SIGNATURE'
    | 'LOOKUP_TABLES';
  message: string;
}

/**
 * Every reason the decoded transaction is not exactly the expected payment; empty means acceptable.
 * Allowed: one transferChecked, one memo, and ComputeBudget instructions (priority fees cost only the payer).
 */
export function verifyLeasePayment(decoded: DecodedLeasePayment, expected: ExpectedPayment): PaymentProblem[] {
  const problems: PaymentProblem[] = [];
  const add = (code: PaymentProblem['code'], message: string) => problems.push({ code, message });
  if (decoded.usesLookupTables) add('LOOKUP_TABLES', 'The payment uses address lookup tables; send a legacy transaction.');
  let transfers = 0;
  let memos = 0;
  for (const ix of decoded.instructions) {
    if (ix.programId === TOKEN_PROGRAM_ID && ix.data[0] === TRANSFER_CHECKED && ix.data.length === 10 && ix.accounts.length >= 4 && transfers++ === 0) continue;
    if (ix.programId === MEMO_PROGRAM_ID && memos++ === 0) continue;
    if (ix.programId === COMPUTE_BUDGET_PROGRAM_ID) continue;
    add('UNEXPECTED_INSTRUCTION', `Unexpected instruction for program ${ix.programId}; a payment holds one transferChecked and one memo.`);
  }
  if (decoded.amount === undefined) {
    add('NO_TRANSFER', 'The transaction holds no token transferChecked instruction.');
  } else {
    if (decoded.mint !== expected.mint) add('WRONG_MINT', `Pays in mint ${decoded.mint}, expected ${expected.mint}.`);
    if (decoded.destination !== expected.treasuryTokenAccount) add('WRONG_DESTINATION', `Pays to ${decoded.destination}, expected the treasury ${expected.treasuryTokenAccount}.`);
    if (decoded.amount !== expected.amount) add('AMOUNT_MISMATCH', `Pays ${decoded.amount} base units, the quote is ${expected.amount}.`);
    if (decoded.decimals !== (expected.decimals ?? TOKEN_DECIMALS)) add('DECIMALS_MISMATCH', `Declares ${decoded.decimals} decimals, the token has ${expected.decimals ?? TOKEN_DECIMALS}.`);
    const ownerSignature = decoded.signatures.find((entry) => entry.publicKey === decoded.owner);
    if (!ownerSignature) add('NOT_SIGNED_BY_OWNER', `The token owner ${decoded.owner} is not a signer of the transaction.`);
  }
  if (decoded.memo !== quoteMemo(expected.quoteId)) add('MEMO_MISMATCH', `Memo is ${JSON.stringify(decoded.memo ?? null)}, expected ${JSON.stringify(quoteMemo(expected.quoteId))}.`);
  for (const entry of decoded.signatures) {
    if (!entry.present) add('INVALID_SIGNATURE', `Missing signature of ${entry.publicKey}.`);
    else if (!entry.valid) add('INVALID_SIGNATURE', `The signature of ${entry.publicKey} does not match the transaction.`);
  }
  return problems;
}

// SPKI DER header for a raw 32-byte ed25519 public key (RFC 8410).
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function verifyEd25519(publicKey: string, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, bs58.decode(publicKey)]), format: 'der', type: 'spki' });
    return ed25519Verify(null, message, key, signature);
  } catch {
    return false;
  }
}
