// The real money hooks on Solana: a PaymentVerifier that checks, submits and confirms renters' token transfers, a
// PayoutSender whose treasury keypair signs claims and refunds, and (local networks) a faucet holding the mint authority.
// Load lazily: it pulls in @solana/web3.js.
import { Connection } from '@solana/web3.js';
import { fundFromFaucet } from '../chain/bootstrap.js';
import { clusterOf, wsEndpointOf } from '../wallet/connection.js';
import { loadKeypairFile, type Keypair } from '../wallet/keypair.js';
import { TOKEN_DECIMALS } from '../domain/money.js';
import { associatedTokenAddress, decodeLeasePayment, verifyLeasePayment, type DecodedLeasePayment } from '../wallet/payment.js';
import { buildPayout, getSignatureOutcome, sendRawAndConfirm } from '../wallet/payout.js';
import type { Faucet, PaymentRequest, PaymentVerifier, PayoutKind, PayoutSender, PayoutStatus, PreparedPayout, VerifiedPayment } from './hooks.js';
import { HttpError } from './http-error.js';

export interface SolanaPaymentsConfig {
  rpcUrl: string;
  /** Subscriptions endpoint; the local chain also answers on its HTTP port. */
  wsUrl?: string;
  mint: string;
  decimals?: number;
  /** Owns the treasury token account, signs payouts and pays their fees. */
  treasuryKeypairPath: string;
  /** Where payments must go; default: the treasury's associated token account. */
  treasuryTokenAccount?: string;
  /** Local networks: the mint authority, which makes the dev faucet possible. */
  faucetAuthorityKeypairPath?: string;
  /** Confirmation polling interval. */
  pollMs?: number;
}

export interface SolanaHooks {
  paymentVerifier: PaymentVerifier;
  payoutSender: PayoutSender;
  faucet?: Faucet;
  /** What GET /v1/network should say. */
  network: { rpcUrl: string; mint: string; decimals: number; treasury: string };
}

/** A blockhash is valid for 150 blocks after its own: a bound past which a transaction can never land. */
const BLOCKHASH_VALIDITY = 151;

export async function createSolanaHooks(config: SolanaPaymentsConfig): Promise<SolanaHooks> {
  const wsEndpoint = config.wsUrl ?? (clusterOf(config.rpcUrl) === 'localnet' ? config.rpcUrl.replace(/^http/, 'ws') : wsEndpointOf(config.rpcUrl));
  const connection = new Connection(config.rpcUrl, { commitment: 'confirmed', wsEndpoint });
  const treasury = await loadKeypairFile(config.treasuryKeypairPath);
  const decimals = config.decimals ?? TOKEN_DECIMALS;
  const treasuryTokenAccount = config.treasuryTokenAccount ?? associatedTokenAddress(treasury.publicKey, config.mint);
  const pollMs = config.pollMs ?? 100;
  const hooks: SolanaHooks = {
    paymentVerifier: new SolanaPaymentVerifier(connection, { mint: config.mint, decimals, treasuryTokenAccount, pollMs }),
    payoutSender: new SolanaPayoutSender(connection, treasury, { mint: config.mint, decimals, pollMs }),
    network: { rpcUrl: config.rpcUrl, mint: config.mint, decimals, treasury: treasury.publicKey },
  };
  if (config.faucetAuthorityKeypairPath) {
    const authority = await loadKeypairFile(config.faucetAuthorityKeypairPath);
    const network = { mint: config.mint, faucetAuthority: { publicKey: authority.publicKey, keypairPath: config.faucetAuthorityKeypairPath } };
    hooks.faucet = {
      fund: async ({ address, tokens, sol }) => {
        // A fresh connection per grant: web3.js caches blockhashes for 30 s, which a restarted local chain invalidates.
        const result = await fundFromFaucet(config.rpcUrl, network, address, { sol, tokens });
        return { tokenAccount: result.tokenAccount ?? null, tokenSignature: result.tokenSignature ?? null, solSignature: result.solSignature ?? null };
      },
    };
  }
  return hooks;
}

export class SolanaPaymentVerifier implements PaymentVerifier {
  constructor(
    private readonly connection: Connection,
    private readonly expected: { mint: string; decimals: number; treasuryTokenAccount: string; pollMs: number },
  ) {}

  /** Reserve the signature (DB) → static checks → submit → wait for confirmation. Nothing is scheduled unless this returns. */
  async verify(request: PaymentRequest): Promise<VerifiedPayment> {
    const decoded = decode(request.transaction);
    // Reserve first: a reused transaction is named as such, whatever else is wrong with it (released on rejection).
    await request.reserve?.(decoded.signature);
    const problems = paymentProblems(decoded, request, this.expected);
    if (problems.length > 0) {
      throw new HttpError(402, 'PAYMENT_REJECTED', `Payment rejected: ${problems.map((p) => p.message).join(' ')}`, 'Let iocli build the payment (`iocli rent`), or sign a transfer that matches the quote exactly.', { problems });
    }
    if (!(await this.connection.isBlockhashValid(decoded.recentBlockhash, { commitment: 'confirmed' })).value) {
      throw new HttpError(402, 'PAYMENT_EXPIRED', `The payment's blockhash has expired, so it can never land (transaction ${decoded.signature}).`, 'Sign the payment again; iocli does this when you retry.');
    }
    const bound = (await this.connection.getBlockHeight('confirmed')) + BLOCKHASH_VALIDITY;
    const outcome = await sendRawAndConfirm(this.connection, request.transaction, bound, { pollMs: this.expected.pollMs });
    if (outcome.status === 'confirmed') return { signature: decoded.signature, amount: request.amount };
    if (outcome.status === 'failed') {
      throw new HttpError(402, 'PAYMENT_FAILED', `The payment transaction ${decoded.signature} failed on chain (${JSON.stringify(outcome.err)}); only its fee was spent.`, 'Check the balance with `iocli wallet balance` and try again.', { err: outcome.err });
    }
    throw new HttpError(402, 'PAYMENT_EXPIRED', `The payment transaction ${decoded.signature} did not land before its blockhash expired.`, 'Sign the payment again; iocli does this when you retry.');
  }

  status(signature: string): Promise<'confirmed' | 'failed' | 'unknown'> {
    return getSignatureOutcome(this.connection, signature);
  }
}

function decode(transaction: string): DecodedLeasePayment {
  try {
    return decodeLeasePayment(transaction);
  } catch (error) {
    throw new HttpError(400, 'PAYMENT_INVALID', (error as Error).message);
  }
}

/** verifyLeasePayment's checks plus: the renter itself signs the transfer (a payment is the renter's, and refunds go back to it). */
export function paymentProblems(
  decoded: DecodedLeasePayment,
  request: Pick<PaymentRequest, 'renter' | 'amount' | 'reference'>,
  expected: { mint: string; decimals: number; treasuryTokenAccount: string },
): Array<{ code: string; message: string }> {
  const problems: Array<{ code: string; message: string }> = verifyLeasePayment(decoded, {
    mint: expected.mint,
    treasuryTokenAccount: expected.treasuryTokenAccount,
    amount: BigInt(request.amount),
    quoteId: request.reference,
    decimals: expected.decimals,
  });
  if (decoded.owner !== undefined && decoded.owner !== request.renter) {
    problems.push({ code: 'WRONG_PAYER', message: `The transfer is from ${decoded.owner}, not from the renter ${request.renter}.` });
  }
  return problems;
}

export class SolanaPayoutSender implements PayoutSender {
  private recent: { at: number; value: Promise<{ blockhash: string; lastValidBlockHeight: number }> } | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly treasury: Keypair,
    private readonly token: { mint: string; decimals: number; pollMs: number },
  ) {}

  /**
   * Claims sign inside their database transaction; one blockhash per second (valid for ~60 s) keeps that RPC round trip
   * off most of them. The stored lastValidBlockHeight still bounds each transfer exactly.
   */
  private latestBlockhash(): Promise<{ blockhash: string; lastValidBlockHeight: number }> {
    const now = Date.now();
    if (!this.recent || now - this.recent.at > 1_000) {
      const value = this.connection.getLatestBlockhash('confirmed');
      this.recent = { at: now, value };
      value.catch(() => (this.recent = undefined));
    }
    return this.recent.value;
  }

  async prepare(payout: { claimId: string; owner: string; amount: number; kind?: PayoutKind }): Promise<PreparedPayout> {
    const signed = await buildPayout({
      connection: { getLatestBlockhash: () => this.latestBlockhash() } as Pick<Connection, 'getLatestBlockhash'>,
      treasuryOwner: this.treasury,
      mint: this.token.mint,
      destinationOwner: payout.owner,
      amount: BigInt(payout.amount),
      decimals: this.token.decimals,
      memo: `iocli:${payout.kind ?? 'claim'}:${payout.claimId}`,
    });
    return { signedTransaction: signed.transactionBase64, signature: signed.signature, lastValidBlockHeight: signed.lastValidBlockHeight };
  }

  async send(prepared: PreparedPayout): Promise<PayoutStatus> {
    const { status } = await sendRawAndConfirm(this.connection, prepared.signedTransaction, prepared.lastValidBlockHeight, { pollMs: this.token.pollMs });
    // The next signature must not reuse a blockhash that just proved stale.
    if (status === 'expired') this.recent = undefined;
    return status;
  }

  /** confirmed/failed as the chain says; expired only once the blockhash is past and the signature was never seen. */
  async status(prepared: PreparedPayout): Promise<PayoutStatus> {
    const outcome = await getSignatureOutcome(this.connection, prepared.signature);
    if (outcome !== 'unknown') return outcome;
    if ((await this.connection.getBlockHeight('confirmed')) <= prepared.lastValidBlockHeight) return 'pending';
    const final = await getSignatureOutcome(this.connection, prepared.signature);
    if (final === 'unknown') this.recent = undefined;
    return final === 'unknown' ? 'expired' : final;
  }
}
