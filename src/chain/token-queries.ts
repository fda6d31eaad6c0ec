// Token accounts and balances read straight from litesvm's ledger: accounts by holder or by mint, a mint's decimals,
// and the balances (lamports and tokens) of a transaction's accounts that its history records before and after it.
import bs58 from 'bs58';
import type { LiteSvm } from 'litesvm/dist/internal.js';
import type { PublicKey } from '@solana/web3.js';
import { invalidParams } from './svm-errors.js';
import { isTokenProgram, parseMintDecimals, parseTokenAccount, TOKEN_2022_PROGRAM, TOKEN_PROGRAM, uiTokenAmount } from './token-accounts.js';
import type { ParsedTokenAccount, TokenBalance } from './token-accounts.js';
import { viewOf, type AccountView } from './svm-views.js';
import { parsePublicKey } from './wire-transaction.js';

export interface KeyedAccount {
  pubkey: string;
  account: AccountView;
}

/** Token accounts (SPL Token and Token-2022) whose owner or delegate is `address`, optionally of one mint or program. */
export function tokenAccountsHeldBy(
  svm: LiteSvm,
  key: 'owner' | 'delegate',
  address: string,
  filter: { mint?: string; programId?: string },
): KeyedAccount[] {
  const wanted = parsePublicKey(address).toBytes();
  const mintBytes = filter.mint ? parsePublicKey(filter.mint).toBytes() : undefined;
  if (filter.programId && !isTokenProgram(filter.programId)) throw invalidParams(`Invalid param: unrecognized Token program id`);
  const programs = filter.programId ? [filter.programId] : [TOKEN_PROGRAM, TOKEN_2022_PROGRAM];
  const out: KeyedAccount[] = [];
  for (const program of programs) {
    for (const { pubkey, account, parsed } of tokenAccountsOf(svm, program)) {
      const holder = key === 'owner' ? parsed.owner : parsed.delegate;
      if (!holder || !bytesEqual(holder, wanted)) continue;
      if (mintBytes && !bytesEqual(parsed.mint, mintBytes)) continue;
      out.push({ pubkey, account });
    }
  }
  return out;
}

/** Every token account of one mint with its amount (getTokenLargestAccounts). */
export function tokenAccountsOfMint(svm: LiteSvm, mint: string, program: string): { pubkey: string; amount: bigint }[] {
  const mintBytes = parsePublicKey(mint).toBytes();
  return tokenAccountsOf(svm, program)
    .filter(({ parsed }) => bytesEqual(parsed.mint, mintBytes))
    .map(({ pubkey, parsed }) => ({ pubkey, amount: parsed.amount }));
}

function tokenAccountsOf(svm: LiteSvm, program: string): (KeyedAccount & { parsed: ParsedTokenAccount })[] {
  const out: (KeyedAccount & { parsed: ParsedTokenAccount })[] = [];
  for (const entry of svm.getProgramAccounts(bs58.decode(program))) {
    const account = viewOf(entry.account());
    const parsed = account && parseTokenAccount(account.data);
    if (account && parsed) out.push({ pubkey: bs58.encode(entry.address), account, parsed });
  }
  return out;
}

/** Decimals of a mint, for token amount answers. */
export function mintDecimalsOf(svm: LiteSvm, mint: Uint8Array | string): number | undefined {
  const account = svm.getAccount(typeof mint === 'string' ? bs58.decode(mint) : mint);
  if (!account || !isTokenProgram(bs58.encode(account.owner()))) return undefined;
  return parseMintDecimals(account.data());
}

/** Lamports of every account a transaction names and the token balances among them (pre/post balances in its meta). */
export function balancesOf(svm: LiteSvm, keys: PublicKey[], programIndexes: Set<number>): { lamports: number[]; tokens: TokenBalance[] } {
  const lamports: number[] = [];
  const tokens: TokenBalance[] = [];
  const decimals = new Map<string, number | undefined>();
  keys.forEach((key, index) => {
    const bytes = key.toBytes();
    // Programs are large executables: their balance is all we need.
    if (programIndexes.has(index)) {
      lamports.push(Number(svm.getBalance(bytes) ?? 0n));
      return;
    }
    const account = svm.getAccount(bytes);
    lamports.push(Number(account?.lamports() ?? 0n));
    if (!account) return;
    const programId = bs58.encode(account.owner());
    if (!isTokenProgram(programId)) return;
    const parsed = parseTokenAccount(account.data());
    if (!parsed) return;
    const mint = bs58.encode(parsed.mint);
    if (!decimals.has(mint)) decimals.set(mint, mintDecimalsOf(svm, parsed.mint));
    tokens.push({
      accountIndex: index,
      mint,
      owner: bs58.encode(parsed.owner),
      programId,
      uiTokenAmount: uiTokenAmount(parsed.amount, decimals.get(mint) ?? 0),
    });
  });
  return { lamports, tokens };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
