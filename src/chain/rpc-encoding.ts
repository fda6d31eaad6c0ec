// Encodes accounts and transactions the way a validator's RPC does, for the HTTP methods, getBlock and subscriptions.

import { VersionedTransaction } from '@solana/web3.js';
import bs58 from 'bs58';
import type { AccountView } from './svm-views.js';
import type { TransactionRecord } from './history.js';
import { parseAccountData, parseInstruction } from './json-parsed.js';
import type { DecimalsOf } from './json-parsed.js';
import { invalidParams, RpcError } from './svm-errors.js';

export type Config = Record<string, unknown> | undefined;

const MAX_PROGRAM_ACCOUNT_FILTERS = 4;
const MAX_MEMCMP_BYTES = 128;

/** The optional config object of a request (clients send it as the last parameter, or not at all). */
export function configOf(value: unknown): Config {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function encodeAccount(account: AccountView | null, config: Config, decimalsOf: DecimalsOf): unknown {
  if (!account) return null;
  const encoding = (config?.encoding as string | undefined) ?? 'base64';
  const slice = config?.dataSlice as { offset: number; length: number } | undefined;
  const data = slice ? account.data.subarray(slice.offset, slice.offset + slice.length) : account.data;
  let encoded: unknown;
  if (encoding === 'jsonParsed') {
    // Parsed whole (a slice of a layout means nothing); what cannot be parsed goes out as base64, like a validator.
    encoded = (!slice && parseAccountData(account.owner, account.data, decimalsOf)) || [Buffer.from(data).toString('base64'), 'base64'];
  } else if (encoding === 'base58') {
    if (data.length > 128) throw invalidParams('Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.');
    encoded = [bs58.encode(data), 'base58'];
  } else if (encoding === 'base64') encoded = [Buffer.from(data).toString('base64'), 'base64'];
  else throw invalidParams(`Invalid param: unsupported encoding ${encoding}`);
  return {
    data: encoded,
    executable: account.executable,
    lamports: Number(account.lamports),
    owner: account.owner,
    rentEpoch: Number(account.rentEpoch),
    space: account.data.length,
  };
}

export function isSigner(record: Pick<TransactionRecord, 'header'>, index: number): boolean {
  return index < record.header.numRequiredSignatures;
}

export function isWritable(record: Pick<TransactionRecord, 'header' | 'accountKeys'>, index: number): boolean {
  const { numRequiredSignatures, numReadonlySignedAccounts, numReadonlyUnsignedAccounts } = record.header;
  if (index < numRequiredSignatures) return index < numRequiredSignatures - numReadonlySignedAccounts;
  return index < record.accountKeys.length - numReadonlyUnsignedAccounts;
}

export type TransactionDetails = 'full' | 'accounts' | 'signatures' | 'none';

export function checkVersion(record: TransactionRecord, maxSupportedVersion: number | undefined): void {
  if (record.version !== 'legacy' && (maxSupportedVersion === undefined || maxSupportedVersion < record.version)) {
    throw new RpcError(
      -32015,
      `Transaction version (${record.version}) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": ${record.version}`,
    );
  }
}

/** A transaction with its meta, as getTransaction returns it and getBlock lists it. */
export function encodeTransaction(
  record: TransactionRecord,
  { encoding = 'json', maxSupportedVersion, details = 'full' }: { encoding?: string; maxSupportedVersion?: number; details?: TransactionDetails },
): Record<string, unknown> {
  checkVersion(record, maxSupportedVersion);
  const parsed = encoding === 'jsonParsed';
  let transaction: unknown;
  if (details === 'accounts') {
    transaction = { signatures: signaturesOf(record), accountKeys: accountKeyObjects(record) };
  } else if (encoding === 'base64') transaction = [Buffer.from(record.raw).toString('base64'), 'base64'];
  else if (encoding === 'base58') transaction = [bs58.encode(record.raw), 'base58'];
  else if (encoding === 'json' || parsed) transaction = jsonTransaction(record, parsed);
  else throw invalidParams(`Invalid param: unsupported encoding ${encoding}`);
  const meta: Record<string, unknown> = {
    err: record.err,
    status: record.err === null ? { Ok: null } : { Err: record.err },
    fee: record.fee,
    preBalances: record.preBalances,
    postBalances: record.postBalances,
    preTokenBalances: record.preTokenBalances,
    postTokenBalances: record.postTokenBalances,
  };
  if (details === 'full') {
    Object.assign(meta, {
      innerInstructions: record.innerInstructions.map((inner) => ({
        index: inner.index,
        instructions: inner.instructions.map((ix) =>
          parsed
            ? parseInstruction({
                programId: record.accountKeys[ix.programIdIndex]!,
                accounts: ix.accounts.map((i) => record.accountKeys[i]!),
                data: bs58.decode(ix.data),
                stackHeight: ix.stackHeight,
              })
            : ix,
        ),
      })),
      logMessages: record.logMessages,
      rewards: [],
      ...(parsed ? {} : { loadedAddresses: { writable: [], readonly: [] } }),
      computeUnitsConsumed: record.computeUnitsConsumed,
    });
  } else meta.rewards = [];
  return {
    ...(maxSupportedVersion !== undefined ? { version: record.version } : {}),
    transaction,
    meta,
  };
}

function signaturesOf(record: TransactionRecord): string[] {
  const tx = VersionedTransaction.deserialize(record.raw);
  return tx.signatures.map((signature) => bs58.encode(signature));
}

function accountKeyObjects(record: TransactionRecord) {
  return record.accountKeys.map((pubkey, index) => ({ pubkey, writable: isWritable(record, index), signer: isSigner(record, index), source: 'transaction' }));
}

function jsonTransaction(record: TransactionRecord, parsed: boolean): unknown {
  // Re-parsed on demand: keeping JSON forms of every transaction in memory would double the history's size.
  const tx = VersionedTransaction.deserialize(record.raw);
  const message = tx.message;
  const keys = record.accountKeys;
  return {
    signatures: tx.signatures.map((signature) => bs58.encode(signature)),
    message: {
      accountKeys: parsed ? accountKeyObjects(record) : keys,
      ...(parsed ? {} : { header: message.header }),
      recentBlockhash: message.recentBlockhash,
      instructions: message.compiledInstructions.map((ix) =>
        parsed
          ? parseInstruction({ programId: keys[ix.programIdIndex]!, accounts: ix.accountKeyIndexes.map((i) => keys[i]!), data: ix.data, stackHeight: null })
          : { programIdIndex: ix.programIdIndex, accounts: ix.accountKeyIndexes, data: bs58.encode(ix.data), stackHeight: null },
      ),
      ...(message.version === 0
        ? {
            addressTableLookups: message.addressTableLookups.map((lookup) => ({
              accountKey: lookup.accountKey.toBase58(),
              writableIndexes: lookup.writableIndexes,
              readonlyIndexes: lookup.readonlyIndexes,
            })),
          }
        : {}),
    },
  };
}

/** getProgramAccounts filters: `{dataSize}` and `{memcmp: {offset, bytes, encoding?}}`, all of which must match. */
export function programAccountFilter(filters: unknown): (account: AccountView) => boolean {
  if (filters === undefined || filters === null) return () => true;
  if (!Array.isArray(filters)) throw invalidParams('Invalid param: filters must be an array');
  if (filters.length > MAX_PROGRAM_ACCOUNT_FILTERS) throw invalidParams(`Too many filters provided; max ${MAX_PROGRAM_ACCOUNT_FILTERS}`);
  const checks = filters.map((filter: unknown): ((account: AccountView) => boolean) => {
    const f = (filter ?? {}) as { dataSize?: unknown; memcmp?: { offset?: unknown; bytes?: unknown; encoding?: unknown } };
    if (f.dataSize !== undefined) {
      if (!Number.isSafeInteger(f.dataSize)) throw invalidParams('Invalid param: dataSize must be an integer');
      return (account) => account.data.length === f.dataSize;
    }
    if (f.memcmp !== undefined) {
      const { offset, bytes, encoding = 'base58' } = f.memcmp;
      if (!Number.isSafeInteger(offset) || (offset as number) < 0 || typeof bytes !== 'string') throw invalidParams('Invalid param: memcmp needs offset and bytes');
      let wanted: Uint8Array;
      try {
        if (encoding === 'base58') wanted = bs58.decode(bytes);
        else if (encoding === 'base64') wanted = Buffer.from(bytes, 'base64');
        else throw new Error('encoding');
      } catch {
        throw invalidParams(`Invalid param: memcmp bytes are not valid ${String(encoding)}`);
      }
      if (wanted.length > MAX_MEMCMP_BYTES) throw invalidParams('Encoded binary data should be less than 129 bytes');
      const start = offset as number;
      return (account) => account.data.length >= start + wanted.length && Buffer.from(account.data.subarray(start, start + wanted.length)).equals(wanted);
    }
    throw invalidParams('Invalid param: unknown filter');
  });
  return (account) => checks.every((check) => check(account));
}

