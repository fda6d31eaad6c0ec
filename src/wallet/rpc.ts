// A minimal Solana JSON-RPC caller over a node:http fetch-alike, for reads that do not need web3.js (and its ~190 ms import).
import { formatTokenAmount } from '../domain/money.js';
import { ExternalError, UserError } from '../errors.js';
import { lightFetch, type FetchLike, type LightResponse } from '../http/light-fetch.js';

export interface RpcOptions {
  timeoutMs?: number;
  fetch?: FetchLike;
}

export async function rpcCall<T>(rpcUrl: string, method: string, params: unknown[] = [], { timeoutMs = 10_000, fetch: fetchImpl = lightFetch }: RpcOptions = {}): Promise<T> {
  let response: LightResponse;
  try {
    response = await fetchImpl(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new ExternalError(`Cannot reach the Solana RPC at ${rpcUrl} (${describeFetchError(error)}).`, {
      code: 'RPC_UNREACHABLE',
      hint: 'Check --url / IOCLI_RPC_URL, or start the local network with `iocli network up`.',
      cause: error,
    });
  }
  const text = await response.text();
  let body: { result?: T; error?: { code: number; message: string } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new ExternalError(`The Solana RPC at ${rpcUrl} answered ${response.status} with a non-JSON body.`, { code: 'RPC_BAD_RESPONSE', hint: 'Is this URL a Solana JSON-RPC endpoint?' });
  }
  if (body.error) {
    throw new UserError(`Solana RPC ${method} failed: ${body.error.message}`, { code: 'RPC_ERROR', details: { rpcCode: body.error.code } });
  }
  return body.result as T;
}

export function describeFetchError(error: unknown): string {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return 'timed out';
  return err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(error);
}

export const LAMPORTS_PER_SOL = 1_000_000_000;

export interface WalletBalances {
  address: string;
  lamports: number;
  sol: number;
  token?: { mint: string; amount: string; decimals: number; uiAmount: string };
}

/** SOL balance, and the balance of one SPL mint summed over the owner's token accounts. */
export async function fetchWalletBalances(rpcUrl: string, address: string, mint?: string, options: RpcOptions & { decimals?: number } = {}): Promise<WalletBalances> {
  const decimals = options.decimals ?? 6;
  const lamportsPromise = rpcCall<{ value: number }>(rpcUrl, 'getBalance', [address, { commitment: 'confirmed' }], options);
  // base64 rather than jsonParsed: every RPC (and the local chain) serves it. SPL token account layout: amount is a u64 at byte 64.
  const tokenPromise = mint
    ? rpcCall<{ value: Array<{ account: { data: [string, string] } }> }>(rpcUrl, 'getTokenAccountsByOwner', [address, { mint }, { encoding: 'base64', commitment: 'confirmed' }], options)
    : undefined;
  const { value: lamports } = await lamportsPromise;
  const balances: WalletBalances = { address, lamports, sol: lamports / LAMPORTS_PER_SOL };
  if (tokenPromise && mint) {
    let amount = 0n;
    for (const { account } of (await tokenPromise).value) amount += Buffer.from(account.data[0], 'base64').readBigUInt64LE(64);
    balances.token = { mint, amount: amount.toString(), decimals, uiAmount: formatTokenAmount(amount, decimals) };
  }
  return balances;
}
