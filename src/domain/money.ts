// Token amounts: integer base units inside, decimal strings at the edges, never through floating point.
import { UsageError } from '../errors.js';

/** The payment token's decimals (6, like USDC); networks may announce another value in GET /v1/network. */
export const TOKEN_DECIMALS = 6;

/** Base units → "1.25" (no trailing zeros), exact for any size. */
export function formatTokenAmount(amount: number | bigint, decimals = TOKEN_DECIMALS): string {
  const units = BigInt(amount);
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const base = 10n ** BigInt(decimals);
  const fraction = (abs % base).toString().padStart(decimals, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${abs / base}${fraction ? `.${fraction}` : ''}`;
}

export interface ParseTokenOptions {
  /** The flag or setting the text came from, named in the error. */
  flag: string;
  decimals?: number;
  /** Reject 0 (prices). */
  positive?: boolean;
}

/** "12.5" → 12_500_000 base units; rejects signs, exponents, more decimals than the token has, and unsafe integers. */
export function parseTokenAmount(text: string, { flag, decimals = TOKEN_DECIMALS, positive = false }: ParseTokenOptions): number {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match || (match[2]?.length ?? 0) > decimals) {
    throw new UsageError(`Invalid ${flag} "${text}".`, { hint: `Use an amount in tokens with at most ${decimals} decimals, e.g. ${flag} 2.5.` });
  }
  const units = BigInt(match[1]!) * 10n ** BigInt(decimals) + BigInt((match[2] ?? '').padEnd(decimals, '0') || '0');
  if (units > BigInt(Number.MAX_SAFE_INTEGER)) throw new UsageError(`${flag} ${text} is too large.`);
  if (positive && units === 0n) throw new UsageError(`Invalid ${flag} "${text}": must be more than 0.`, { hint: `e.g. ${flag} 1.25` });
  return Number(units);
}
