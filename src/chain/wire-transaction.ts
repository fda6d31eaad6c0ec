// What the chain accepts from clients before litesvm sees it: wire transactions (parsed and checked by web3.js first,
// because malformed bytes abort the whole process inside litesvm) and base58 addresses, with a validator's errors.
import { PublicKey, VersionedTransaction } from '@solana/web3.js';
import bs58 from 'bs58';
import { MEMO_PROGRAMS } from './json-parsed.js';
import { invalidParams, RpcError } from './svm-errors.js';

export interface ParsedTransaction {
  tx: VersionedTransaction;
  raw: Uint8Array;
  signature: string;
}

/**
 * Parses wire bytes with web3.js and hands litesvm only bytes web3.js re-serialized identically: malformed input
 * makes litesvm panic and abort the whole process, so nothing unparsed may reach it.
 */
export function parseWireTransaction(bytes: Uint8Array): ParsedTransaction {
  let tx: VersionedTransaction;
  let raw: Uint8Array;
  try {
    tx = VersionedTransaction.deserialize(bytes);
    raw = tx.serialize();
  } catch (error) {
    throw invalidParams(`failed to deserialize solana_transaction::versioned::VersionedTransaction: ${(error as Error).message}`);
  }
  if (!Buffer.from(raw).equals(Buffer.from(bytes))) {
    throw invalidParams('failed to deserialize solana_transaction::versioned::VersionedTransaction: trailing or non-canonical bytes');
  }
  const message = tx.message;
  const { numRequiredSignatures, numReadonlySignedAccounts, numReadonlyUnsignedAccounts } = message.header;
  const staticKeys = message.staticAccountKeys.length;
  const lookupKeys = message.addressTableLookups.reduce((n, lookup) => n + lookup.writableIndexes.length + lookup.readonlyIndexes.length, 0);
  const totalKeys = staticKeys + lookupKeys;
  const sane =
    numRequiredSignatures >= 1 &&
    tx.signatures.length === numRequiredSignatures &&
    numReadonlySignedAccounts < numRequiredSignatures &&
    numRequiredSignatures + numReadonlyUnsignedAccounts <= staticKeys &&
    totalKeys <= 256 &&
    message.compiledInstructions.every((ix) => ix.programIdIndex < staticKeys && ix.programIdIndex > 0 && ix.accountKeyIndexes.every((i) => i < totalKeys));
  if (!sane) throw new RpcError(-32602, 'invalid transaction: Transaction failed to sanitize accounts offsets correctly');
  return { tx, raw, signature: bs58.encode(tx.signatures[0]!) };
}

export function parsePublicKey(address: unknown): PublicKey {
  if (typeof address !== 'string') throw invalidParams('Invalid param: Invalid');
  try {
    const key = new PublicKey(address);
    if (key.toBase58() !== address) throw new Error('not canonical');
    return key;
  } catch {
    throw invalidParams('Invalid param: Invalid');
  }
}

/** The transaction's memos as a validator's history shows them (`[length] text`, joined by "; "), or null. */
export function memoOf(tx: VersionedTransaction): string | null {
  const keys = tx.message.staticAccountKeys;
  const memos = tx.message.compiledInstructions
    .filter((ix) => MEMO_PROGRAMS.has(keys[ix.programIdIndex]!.toBase58()))
    .map((ix) => `[${Buffer.from(ix.data).length}] ${Buffer.from(ix.data).toString('utf8')}`);
  return memos.length > 0 ? memos.join('; ') : null;
}
