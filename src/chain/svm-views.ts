// litesvm's native objects turned into the plain values the RPC answers with: accounts (absent when empty, as on a
// validator) and a transaction's inner instructions.
import bs58 from 'bs58';
import type { Account, TransactionMetadata } from 'litesvm/dist/internal.js';
import type { InnerInstructionRecord } from './history.js';

export interface AccountView {
  lamports: bigint;
  data: Uint8Array;
  owner: string;
  executable: boolean;
  rentEpoch: bigint;
}

/** The account as the RPC shows it; null for an account with no lamports and no data (it does not exist). */
export function viewOf(account: Account): AccountView | null {
  const lamports = account.lamports();
  const data = account.data();
  if (lamports === 0n && data.length === 0) return null;
  return { lamports, data, owner: bs58.encode(account.owner()), executable: account.executable(), rentEpoch: account.rentEpoch() };
}

export function innerInstructionsOf(meta: TransactionMetadata): InnerInstructionRecord[] {
  const out: InnerInstructionRecord[] = [];
  meta.innerInstructions().forEach((list, index) => {
    if (list.length === 0) return;
    out.push({
      index,
      instructions: list.map((inner) => {
        const ix = inner.instruction();
        return { programIdIndex: ix.programIdIndex(), accounts: Array.from(ix.accounts()), data: bs58.encode(ix.data()), stackHeight: inner.stackHeight() };
      }),
    });
  });
  return out;
}
