// POST /v1/faucet: test tokens (and SOL) on development networks, rate-limited per address and per client IP.
import type { FaucetRequest, FaucetResponse } from '../api/schemas/network.js';
import type { Faucet } from './hooks.js';
import { HttpError } from './http-error.js';
import { parseTokenAmount } from '../domain/money.js';

export interface FaucetOptions {
  dev: boolean;
  faucet?: Faucet;
  decimals: number;
  /** Grants per address and per IP in a sliding minute. */
  perMinute: number;
  /** Upper bound of one grant, in whole tokens. */
  maxTokens: number;
  now: () => number;
}

const DEFAULT_TOKENS = '1000';

/** Whole tokens ("12.5") to base units, exactly; a bad amount is the client's mistake (400). */
function tokensToBaseUnits(tokens: string | number, decimals: number): bigint {
  try {
    return BigInt(parseTokenAmount(String(tokens), { flag: 'tokens', decimals }));
  } catch (error) {
    throw new HttpError(400, 'BAD_REQUEST', (error as Error).message);
  }
}

/** A grant per call, for the validated body and the client's address; refusals are HttpErrors. */
export type FaucetGrants = (request: FaucetRequest, clientIp: string) => Promise<FaucetResponse>;

export function createFaucetGrants(options: FaucetOptions): FaucetGrants {
  const grants = new Map<string, number[]>();
  const take = (key: string): boolean => {
    const t = options.now();
    const recent = (grants.get(key) ?? []).filter((at) => at > t - 60_000);
    if (recent.length >= options.perMinute) {
      grants.set(key, recent);
      return false;
    }
    recent.push(t);
    if (grants.size > 50_000) grants.clear();
    grants.set(key, recent);
    return true;
  };

  return async (request, clientIp) => {
    if (!options.dev) {
      throw new HttpError(403, 'FAUCET_DEV_ONLY', 'The faucet exists only on development coordinators (--dev).', 'On devnet use https://faucet.solana.com for SOL and ask the operator for tokens.');
    }
    if (!options.faucet) {
      throw new HttpError(503, 'FAUCET_UNAVAILABLE', 'This coordinator was not given the mint authority, so it cannot hand out test tokens.', 'Start a local network with `iocli network up`, which wires the faucet in.');
    }
    const { address, sol = 0 } = request;
    const tokens = request.tokens ?? (request.sol === undefined ? DEFAULT_TOKENS : '0');
    const amount = tokensToBaseUnits(tokens, options.decimals);
    if (amount === 0n && sol === 0) {
      throw new HttpError(400, 'BAD_REQUEST', 'Nothing to hand out: ask for more than 0 tokens or some SOL.', 'e.g. {"tokens": "100"} or {"sol": 1}.');
    }
    if (amount > BigInt(options.maxTokens) * 10n ** BigInt(options.decimals)) {
      throw new HttpError(400, 'FAUCET_LIMIT', `The faucet hands out at most ${options.maxTokens} tokens at a time.`);
    }
    if (!take(`a:${address}`) || !take(`ip:${clientIp}`)) {
      throw new HttpError(429, 'FAUCET_RATE_LIMITED', `The faucet grants at most ${options.perMinute} requests a minute per address and per client.`, 'Wait a minute and try again.');
    }
    const grant = await options.faucet.fund({ address, tokens: amount, sol }).catch((error: unknown) => {
      // The chain's own rule (a new account needs its rent-exempt minimum): the caller's amount, not a server fault.
      if (/InsufficientFundsForRent/.test(String((error as Error)?.message))) {
        throw new HttpError(400, 'FAUCET_BELOW_RENT', `${sol} SOL would leave ${address} below the rent-exempt minimum.`, 'Ask for at least 0.001 SOL for a new account.');
      }
      throw error;
    });
    return { address, amount: Number(amount), tokenAccount: grant.tokenAccount, signature: grant.tokenSignature, sol, solSignature: grant.solSignature };
  };
}
