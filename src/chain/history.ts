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
  /** The message header: which account keys signed and which are writable. */
  header: { numRequiredSignatures: number; numReadonlySignedAccounts: number; numReadonlyUnsignedAccounts: number };
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
  /** Micro-lamports per compute unit the transaction bid (0 without a SetComputeUnitPrice instruction). */
  computeUnitPrice: number;
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
  /** Signatures per slot, in landing order: the slot's block. */
  private readonly bySlotIndex = new Map<number, string[]>();
  private feesCharged = 0n;

  get size(): number {
    return this.bySignature.size;
  }

  has(signature: string): boolean {
    return this.bySignature.has(signature);
  }

  get(signature: string): TransactionRecord | undefined {
    return this.bySignature.get(signature);
  }

  /** Every fee charged so far (fees leave circulation: the local chain has no leader to pay them to). */
  get totalFees(): bigint {
    return this.feesCharged;
  }

  /** Every address any landed transaction named, for getLargestAccounts (litesvm cannot list all accounts). */
  addresses(): IterableIterator<string> {
    return this.byAddress.keys();
  }

  /** The transactions of one slot's block, in the order they landed. */
  inSlot(slot: number): TransactionRecord[] {
    return (this.bySlotIndex.get(slot) ?? []).map((signature) => this.bySignature.get(signature)!);
  }

  add(record: TransactionRecord): void {
    this.bySignature.set(record.signature, record);
    this.feesCharged += BigInt(record.fee);
    let block = this.bySlotIndex.get(record.slot);
    if (!block) this.bySlotIndex.set(record.slot, (block = []));
    block.push(record.signature);
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
