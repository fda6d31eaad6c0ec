// Treasury payouts (reward claims, refunds) for the coordinator's outbox: build and sign first (so the signature
// can be stored before anything is sent), then send and confirm, and later ask the chain what became of a signature.

import { PublicKey, Transaction } from '@solana/web3.js';
import type { Connection } from '@solana/web3.js';
import bs58 from 'bs58';
import { ExternalError, UserError } from '../errors.js';
import {
  associatedTokenAddress,
  createAssociatedTokenAccountIdempotentInstruction,
  memoInstruction,
  signTransaction,
  transferCheckedInstruction,
} from './payment.js';
import type { BlockhashSource, SignedTransaction, Signer } from './payment.js';
import { TOKEN_DECIMALS } from '../domain/money.js';
import { readSignatureOutcome } from './signature-status.js';

export { getSignatureOutcome, type SignatureOutcome } from './signature-status.js';

export interface PayoutRequest {
  connection: BlockhashSource;
  /** Owns the treasury token account and pays the fee (and the destination account's rent when it is new). */
  treasuryOwner: Signer;
  mint: string;
  /** Wallet address of the recipient; tokens go to its associated token account. */
  destinationOwner: string;
  amount: bigint;
  memo?: string;
  decimals?: number;
}

export interface SignedPayout extends SignedTransaction {
  destinationTokenAccount: string;
}

export async function buildPayout(request: PayoutRequest): Promise<SignedPayout> {
  if (request.amount <= 0n) throw new UserError('A payout amount must be positive.', { code: 'PAYOUT_INVALID' });
  const treasury = request.treasuryOwner.publicKey;
  const { blockhash, lastValidBlockHeight } = await request.connection.getLatestBlockhash('confirmed');
  const destinationTokenAccount = associatedTokenAddress(request.destinationOwner, request.mint);
  const tx = new Transaction({ feePayer: new PublicKey(treasury), blockhash, lastValidBlockHeight });
  tx.add(
    createAssociatedTokenAccountIdempotentInstruction({ payer: treasury, owner: request.destinationOwner, mint: request.mint }),
    transferCheckedInstruction({
      source: associatedTokenAddress(treasury, request.mint),
      mint: request.mint,
      destination: destinationTokenAccount,
      owner: treasury,
      amount: request.amount,
      decimals: request.decimals ?? TOKEN_DECIMALS,
    }),
  );
  if (request.memo) tx.add(memoInstruction(request.memo, treasury));
  return { ...signTransaction(tx, [request.treasuryOwner]), lastValidBlockHeight, destinationTokenAccount };
}


export interface SendOutcome {
  /** confirmed: landed and succeeded; failed: landed with an error (fee spent, no transfer); expired: never landed and never will. */
  status: 'confirmed' | 'failed' | 'expired';
  signature: string;
  err?: unknown;
}

type ChainReader = Pick<Connection, 'getSignatureStatuses' | 'getBlockHeight'>;

/**
 * Sends signed bytes and waits until they land or their blockhash expires. Sent without preflight and re-sent every
 * `resendMs`: resending identical bytes is harmless (same signature, a chain applies it at most once), and a lagging
 * RPC node's simulation cannot make a payable transfer look failed.
 */
export async function sendRawAndConfirm(
  connection: ChainReader & Pick<Connection, 'sendRawTransaction'>,
  transactionBase64: string,
  lastValidBlockHeight: number,
  { pollMs = 400, resendMs = 2000, signal }: { pollMs?: number; resendMs?: number; signal?: AbortSignal } = {},
): Promise<SendOutcome> {
  const bytes = Buffer.from(transactionBase64, 'base64');
  const signature = signatureOf(bytes);
  let lastSent = 0;
  for (;;) {
    signal?.throwIfAborted();
    if (Date.now() - lastSent >= resendMs) {
      lastSent = Date.now();
      try {
        await connection.sendRawTransaction(bytes, { skipPreflight: true, maxRetries: 0 });
      } catch (error) {
        // A node that refuses the bytes outright (malformed) will never land them; transport errors are retried.
        if (/deserialize|sanitize/i.test((error as Error).message)) throw new ExternalError(`The RPC rejected transaction ${signature}: ${(error as Error).message}`, { code: 'RPC_REJECTED' });
      }
    }
    const outcome = await readSignatureOutcome(connection, signature);
    if (outcome.status !== 'unknown') return { signature, status: outcome.status, ...(outcome.err !== undefined ? { err: outcome.err } : {}) };
    // Check expiry only after a status miss: a transaction may land in the very last valid block.
    if ((await connection.getBlockHeight('confirmed')) > lastValidBlockHeight) {
      const final = await readSignatureOutcome(connection, signature);
      if (final.status !== 'unknown') return { signature, status: final.status, err: final.err };
      return { signature, status: 'expired' };
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** The transaction id is its first signature, which sits right after the compact-u16 signature count. */
export function signatureOf(wire: Uint8Array): string {
  return bs58.encode(wire.subarray(1, 65));
}
