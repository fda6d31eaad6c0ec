// The pluggable money hooks: on-chain payment verification and reward payouts live outside the coordinator core.

export interface PaymentRequest {
  renter: string;
  /** Base units the transaction must move to the treasury. */
  amount: number;
  /** What the memo must carry: the quote id for a new lease, `extend:<leaseId>:<n>` for an extension. */
  reference: string;
  /** The renter-signed transaction, base64. */
  transaction: string;
  /**
   * Claim this transaction for this reference in the database (unique signature, unique reference). A verifier calls it
   * after its static checks and before submitting, so a reused transaction is refused without touching the chain.
   * Throws (409) when the transaction or the reference was already used.
   */
  reserve?: (signature: string) => Promise<void>;
}

export interface VerifiedPayment {
  /** The confirmed transaction signature; one signature pays for one lease only. */
  signature: string;
  amount: number;
}

export interface PaymentVerifier {
  /** Check mint, amount, destination and memo, submit, wait for confirmation. Throw to reject. */
  verify(request: PaymentRequest): Promise<VerifiedPayment>;
  /** What the chain says about a payment signature (recovery of payments cut off by a crash). */
  status?(signature: string): Promise<'confirmed' | 'failed' | 'unknown'>;
}

export interface PreparedPayout {
  /** The signed transfer, base64, stored before sending so a crash can re-check or resend it. */
  signedTransaction: string;
  signature: string;
  lastValidBlockHeight: number;
}

/**
 * Claims pay rewards to node owners; refunds pay the unused share of a lease back to its renter; unbond returns a
 * provider's GPU bond after its cooldown; slash pays a renter its share of a slashed bond.
 */
export type PayoutKind = 'claim' | 'refund' | 'unbond' | 'slash';

export type PayoutStatus = 'confirmed' | 'pending' | 'expired' | 'failed';

export interface PayoutSender {
  /** Build and sign the transfer of `amount` base units to `owner`. No network send yet. */
  prepare(payout: { claimId: string; owner: string; amount: number; kind?: PayoutKind }): Promise<PreparedPayout>;
  /** Submit a prepared transfer and wait for confirmation (resolves 'confirmed' or what it saw). */
  send(prepared: PreparedPayout): Promise<PayoutStatus>;
  /** Where a previously sent transfer stands (used on restart). */
  status(prepared: PreparedPayout): Promise<PayoutStatus>;
}

export interface FaucetGrant {
  tokenAccount: string | null;
  tokenSignature: string | null;
  solSignature: string | null;
}

/** Development networks only: hands out test tokens (minted by the mint authority) and SOL. */
export interface Faucet {
  fund(request: { address: string; tokens: bigint; sol: number }): Promise<FaucetGrant>;
}
