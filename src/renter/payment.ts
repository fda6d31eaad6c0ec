// Paying for a lease or an extension: check the wallet can afford it, then build and sign (never send) the token transfer
// the coordinator submits. web3.js is loaded only when a payment is actually built.
import type { NetworkInfo } from '../api/schemas/network.js';
import { ExitCode, UserError } from '../errors.js';
import type { Keypair } from '../wallet/keypair.js';
import { fetchWalletBalances, rpcCall } from '../wallet/rpc.js';
import { tokens } from './format.js';

/** Enough SOL for the transfer's fee (5000 lamports per signature) with room for a priority fee. */
export const MIN_FEE_LAMPORTS = 10_000;
const TOKEN_PROGRAM_ID = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA';

export interface PaymentPlan {
  /** What the coordinator's network says money is. */
  network: NetworkInfo;
  /** The RPC to read balances and blockhashes from. */
  rpcUrl: string;
  payer: Keypair;
  /** Base units to transfer. */
  amount: number;
  /** What the memo names: the quote id, or `extend:<leaseId>:<hours>` for an extension. */
  reference: string;
}

export interface PreparedPayment {
  /** The signed transaction, base64: goes into the request body as payment.transaction. */
  transaction: string;
  signature: string;
  amount: number;
  mint: string;
  destination: string;
}

export interface SimulationResult {
  ok: boolean;
  err: unknown;
  logs: string[];
  unitsConsumed?: number;
}

/** How to get tokens on this network: the faucet where there is one, else an address to send to. */
export function fundingHint(network: NetworkInfo, address: string, shortBy: number): string {
  const needed = tokens(shortBy, network.decimals);
  const local = network.dev || network.cluster === 'localnet' || network.cluster === 'local' || network.cluster === 'devnet';
  // Round the airdrop up to whole tokens: the faucet takes token amounts, and a little headroom avoids a second round.
  const whole = Math.ceil(shortBy / 10 ** network.decimals);
  return local
    ? `Fund the wallet with \`iocli wallet airdrop --tokens ${Math.max(1, whole)}\` (test tokens; add --sol 1 if SOL is short too).`
    : `Send at least ${needed} tokens (mint ${network.mint}) to ${address}, then try again.`;
}

/** Fails with exit 4 and how to fund the wallet when it holds too few tokens, or too little SOL for the fee. */
export async function ensureAffordable(plan: PaymentPlan): Promise<{ tokenBalance: number; lamports: number }> {
  const { network, rpcUrl, payer, amount } = plan;
  const balances = await fetchWalletBalances(rpcUrl, payer.publicKey, network.mint ?? undefined, { decimals: network.decimals });
  const tokenBalance = Number(balances.token?.amount ?? 0);
  if (tokenBalance < amount) {
    throw new UserError(
      `Insufficient balance: this costs ${tokens(amount, network.decimals)} tokens, the wallet ${payer.publicKey} holds ${tokens(tokenBalance, network.decimals)}.`,
      {
        exitCode: ExitCode.unavailable,
        code: 'INSUFFICIENT_BALANCE',
        hint: fundingHint(network, payer.publicKey, amount - tokenBalance),
        details: { required: amount, balance: tokenBalance, mint: network.mint, address: payer.publicKey },
      },
    );
  }
  if (balances.lamports < MIN_FEE_LAMPORTS) {
    const local = network.dev || network.cluster === 'localnet' || network.cluster === 'devnet';
    throw new UserError(`Insufficient SOL for the transaction fee: the wallet ${payer.publicKey} holds ${balances.sol} SOL.`, {
      exitCode: ExitCode.unavailable,
      code: 'INSUFFICIENT_SOL',
      hint: local ? 'Fund it with `iocli wallet airdrop --sol 1`.' : `Send a little SOL (0.01 is plenty) to ${payer.publicKey}.`,
      details: { lamports: balances.lamports, address: payer.publicKey },
    });
  }
  return { tokenBalance, lamports: balances.lamports };
}

/**
 * The treasury's token account. The network may name either the token account itself or its owner wallet;
 * asking the chain who owns the address tells which.
 */
export async function resolveTreasuryTokenAccount(network: NetworkInfo, rpcUrl: string): Promise<string> {
  if (!network.treasury || !network.mint) {
    throw new UserError('The coordinator takes payments but names no treasury.', { code: 'NETWORK_MISCONFIGURED', hint: 'Report this to the coordinator operator.' });
  }
  const info = await rpcCall<{ value: { owner: string } | null }>(rpcUrl, 'getAccountInfo', [network.treasury, { encoding: 'base64', commitment: 'confirmed' }]);
  if (info.value?.owner === TOKEN_PROGRAM_ID) return network.treasury;
  const { associatedTokenAddress } = await import('../wallet/payment.js');
  return associatedTokenAddress(network.treasury, network.mint);
}

/** Build and sign the transfer + memo. Sends nothing: the coordinator submits it after checking it. */
export async function preparePayment(plan: PaymentPlan): Promise<PreparedPayment> {
  const { network, rpcUrl, payer, amount, reference } = plan;
  const mint = network.mint!;
  const destination = await resolveTreasuryTokenAccount(network, rpcUrl);
  const [{ createConnection }, { buildLeasePayment }] = await Promise.all([import('../wallet/connection.js'), import('../wallet/payment.js')]);
  const connection = await createConnection(rpcUrl);
  const signed = await buildLeasePayment({
    connection,
    payer,
    mint,
    treasuryTokenAccount: destination,
    amount: BigInt(amount),
    quoteId: reference,
    decimals: network.decimals,
  });
  return { transaction: signed.transactionBase64, signature: signed.signature, amount, mint, destination };
}

/** Run the signed payment through the RPC's simulator (signatures verified) without sending it. */
export async function simulatePayment(rpcUrl: string, payment: PreparedPayment): Promise<SimulationResult> {
  const { value } = await rpcCall<{ value: { err: unknown; logs: string[] | null; unitsConsumed?: number } }>(rpcUrl, 'simulateTransaction', [
    payment.transaction,
    { encoding: 'base64', sigVerify: true, commitment: 'confirmed' },
  ]);
  return { ok: value.err === null || value.err === undefined, err: value.err ?? null, logs: value.logs ?? [], unitsConsumed: value.unitsConsumed };
}

/** The memo reference the coordinator expects for an extension to `totalHours` hours in all. */
export function extensionReference(leaseId: string, totalHours: number): string {
  return `extend:${leaseId}:${totalHours}`;
}
