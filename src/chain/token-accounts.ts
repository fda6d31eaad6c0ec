// Reads SPL Token / Token-2022 account and mint layouts, for token balances in transaction meta and token RPC methods.
import { formatTokenAmount } from '../domain/money.js';

export const TOKEN_PROGRAM = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA';
export const TOKEN_2022_PROGRAM = 'TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb';

const ACCOUNT_LEN = 165;
const MINT_LEN = 82;
// Token-2022 puts an account-type byte right after the base layout when extensions follow: 1 = mint, 2 = account.
const ACCOUNT_TYPE_OFFSET = 165;

export interface UiTokenAmount {
  amount: string;
  decimals: number;
  uiAmount: number | null;
  uiAmountString: string;
}

export interface TokenBalance {
  accountIndex: number;
  mint: string;
  owner: string;
  programId: string;
  uiTokenAmount: UiTokenAmount;
}

export interface ParsedTokenAccount {
  mint: Uint8Array;
  owner: Uint8Array;
  amount: bigint;
  /** The approved delegate, when one is set. */
  delegate: Uint8Array | undefined;
}

export function isTokenProgram(owner: string): boolean {
  return owner === TOKEN_PROGRAM || owner === TOKEN_2022_PROGRAM;
}

/** Parses a token account's base layout, or undefined when the data is not a token account. */
export function parseTokenAccount(data: Uint8Array): ParsedTokenAccount | undefined {
  if (data.length < ACCOUNT_LEN) return undefined;
  if (data.length > ACCOUNT_LEN && data[ACCOUNT_TYPE_OFFSET] !== 2) return undefined;
  // state byte: 0 = uninitialized
  if (data[108] === 0) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const delegate = view.getUint32(72, true) === 1 ? data.subarray(76, 108) : undefined;
  return { mint: data.subarray(0, 32), owner: data.subarray(32, 64), amount: view.getBigUint64(64, true), delegate };
}

/** A mint's decimals, or undefined when the data is not an initialized mint. */
export function parseMintDecimals(data: Uint8Array): number | undefined {
  const plainMint = data.length === MINT_LEN;
  const extendedMint = data.length > ACCOUNT_LEN && data[ACCOUNT_TYPE_OFFSET] === 1;
  if (!plainMint && !extendedMint) return undefined;
  if (data[45] !== 1) return undefined; // is_initialized
  return data[44];
}

export function uiTokenAmount(amount: bigint, decimals: number): UiTokenAmount {
  const uiAmountString = formatTokenAmount(amount, decimals);
  return { amount: amount.toString(), decimals, uiAmount: Number(uiAmountString), uiAmountString };
}
