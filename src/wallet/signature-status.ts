// What the chain says about a transaction signature, and waiting until it says something final. Light on purpose (no
// @solana/web3.js at run time): a web3.js Connection fits the reader, and so does rpcSignatureReader's plain JSON-RPC.
import { rpcCall } from './rpc.js';

export type SignatureOutcome = 'confirmed' | 'failed' | 'unknown';

/** The one RPC method these need; `Connection` from @solana/web3.js has it. */
export interface SignatureStatusReader {
  getSignatureStatuses(
    signatures: string[],
    config?: { searchTransactionHistory: boolean },
  ): Promise<{ value: Array<{ confirmationStatus?: string; err: unknown } | null> }>;
}

/** A reader over plain JSON-RPC, for commands that do not load web3.js. */
export function rpcSignatureReader(rpcUrl: string): SignatureStatusReader {
  return { getSignatureStatuses: (signatures, config) => rpcCall(rpcUrl, 'getSignatureStatuses', [signatures, ...(config ? [config] : [])]) };
}

/** What the chain says about a signature now: confirmed (succeeded), failed (landed with an error) or unknown. */
export async function getSignatureOutcome(reader: SignatureStatusReader, signature: string): Promise<SignatureOutcome> {
  return (await readSignatureOutcome(reader, signature)).status;
}

/** The outcome with the chain's error when it failed. Processed-only counts as unknown: it may still be dropped. */
export async function readSignatureOutcome(reader: SignatureStatusReader, signature: string): Promise<{ status: SignatureOutcome; err?: unknown }> {
  const { value } = await reader.getSignatureStatuses([signature], { searchTransactionHistory: true });
  const status = value[0];
  if (!status || status.confirmationStatus === 'processed' || status.confirmationStatus === undefined) return { status: 'unknown' };
  return status.err ? { status: 'failed', err: status.err } : { status: 'confirmed' };
}

/**
 * Polls until the signature is confirmed or failed; 'unknown' when `timeoutMs` passed (or the signal aborted) first.
 * For transactions someone else sends (an airdrop); sendRawAndConfirm in payout.ts also re-sends and watches expiry.
 */
export async function waitForSignatureOutcome(
  reader: SignatureStatusReader,
  signature: string,
  { timeoutMs = 30_000, pollMs = 300, signal, now = Date.now }: { timeoutMs?: number; pollMs?: number; signal?: AbortSignal; now?: () => number } = {},
): Promise<{ status: SignatureOutcome; err?: unknown }> {
  const deadline = now() + timeoutMs;
  while (!signal?.aborted) {
    const outcome = await readSignatureOutcome(reader, signature);
    if (outcome.status !== 'unknown' || now() >= deadline) return outcome;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return { status: 'unknown' };
}
