// What the local chain remembers about each landed transaction, for getTransaction, getSignatureStatuses and getSignaturesForAddress.

import type { RpcTransactionError } from './svm-errors.js';
import type { TokenBalance } from './token-accounts.js';

export interface InnerInstructionRecord {
  index: number;
  instructions: { programIdIndex: number; accounts: number[]; data: string; stackHeight: number }[];
}

export interface TransactionRecord {
  signature: string;
  slot: number;
  /** Unix seconds. */
  blockTime: number;
  /** The canonical wire bytes (signatures + message). */
  raw: Uint8Array;
  version: 'legacy' | 0;
  accountKeys: string[];
  err: RpcTransactionError | null;
  fee: number;
  preBalances: number[];
  postBalances: number[];
  preTokenBalances: TokenBalance[];
  postTokenBalances: TokenBalance[];
  logMessages: string[];
  innerInstructions: InnerInstructionRecord[];
  computeUnitsConsumed: number;
  /** Text of spl-memo instructions, joined like the RPC's `memo` field. */
  memo: string | null;
}

export interface SignatureQuery {
  limit?: number;
  before?: string;
  until?: string;
}

export class TransactionHistory {
  private readonly bySignature = new Map<string, TransactionRecord>();
  /** Signatures per address, oldest first. */
  private readonly byAddress = new Map<string, string[]>();

  get size(): number {
    return this.bySignature.size;
  }

  has(signature: string): boolean {
    return this.bySignature.has(signature);
  }

  get(signature: string): TransactionRecord | undefined {
    return this.bySignature.get(signature);
  }

  add(record: TransactionRecord): void {
    this.bySignature.set(record.signature, record);
    for (const key of new Set(record.accountKeys)) {
      let list = this.byAddress.get(key);
      if (!list) this.byAddress.set(key, (list = []));
      list.push(record.signature);
    }
  }

  /** Newest first, like getSignaturesForAddress. */
  signaturesFor(address: string, { limit = 1000, before, until }: SignatureQuery = {}): TransactionRecord[] {
    const list = this.byAddress.get(address) ?? [];
    const out: TransactionRecord[] = [];
    let started = before === undefined;
    for (let i = list.length - 1; i >= 0 && out.length < Math.min(limit, 1000); i--) {
      const signature = list[i]!;
      if (!started) {
        if (signature === before) started = true;
        continue;
      }
      if (signature === until) break;
      out.push(this.bySignature.get(signature)!);
    }
    return out;
  }
}
