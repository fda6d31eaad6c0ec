// The Solana JSON-RPC methods the local chain answers, in the shapes @solana/web3.js and @solana/spl-token expect.

import { VersionedMessage, VersionedTransaction } from '@solana/web3.js';
import bs58 from 'bs58';
import type { AccountView, ChainState } from './chain-state.js';
import { LAMPORTS_PER_SIGNATURE, parsePublicKey } from './chain-state.js';
import type { TransactionRecord } from './history.js';
import { invalidParams, RpcError } from './svm-errors.js';
import { parseTokenAccount, uiTokenAmount } from './token-accounts.js';

export type RpcHandler = (params: unknown[]) => unknown;

const SLOTS_PER_EPOCH = 432_000;
const MAX_MULTIPLE_ACCOUNTS = 100;

type Config = Record<string, unknown> | undefined;

export function createRpcMethods(chain: ChainState): Record<string, RpcHandler> {
  const wrap = (value: unknown) => ({ context: { apiVersion: '2.2.0', slot: chain.clock.slot }, value });

  return {
    getHealth: () => 'ok',
    getVersion: () => ({ 'solana-core': '2.2.0', 'feature-set': 0 }),
    getGenesisHash: () => chain.genesisHash,
    getSlot: () => chain.clock.slot,
    getBlockHeight: () => chain.clock.slot,
    getTransactionCount: () => chain.history.size,
    getFirstAvailableBlock: () => 0,
    getEpochInfo: () => ({
      absoluteSlot: chain.clock.slot,
      blockHeight: chain.clock.slot,
      epoch: Math.floor(chain.clock.slot / SLOTS_PER_EPOCH),
      slotIndex: chain.clock.slot % SLOTS_PER_EPOCH,
      slotsInEpoch: SLOTS_PER_EPOCH,
      transactionCount: chain.history.size,
    }),
    getRecentPrioritizationFees: () => [],
    getLatestBlockhash: () => wrap(chain.clock.latest()),
    isBlockhashValid: ([blockhash]) => wrap(typeof blockhash === 'string' && chain.clock.isValid(blockhash)),
    getFeeForMessage: ([message]) => {
      if (typeof message !== 'string') throw invalidParams('Invalid param: message must be a base64 string');
      let parsed: VersionedMessage;
      try {
        parsed = VersionedMessage.deserialize(Buffer.from(message, 'base64'));
      } catch {
        throw invalidParams('Invalid param: failed to deserialize message');
      }
      return wrap(chain.clock.isValid(parsed.recentBlockhash) ? LAMPORTS_PER_SIGNATURE * parsed.header.numRequiredSignatures : null);
    },
    getMinimumBalanceForRentExemption: ([size]) => {
      if (!Number.isSafeInteger(size) || (size as number) < 0) throw invalidParams('Invalid param: data length must be a non-negative integer');
      return Number(chain.minimumBalanceForRentExemption(size as number));
    },
    getBalance: ([address]) => wrap(Number(chain.getBalance(address as string))),
    getAccountInfo: ([address, config]) => {
      parsePublicKey(address);
      return wrap(encodeAccount(chain.getAccount(address as string), config as Config));
    },
    getMultipleAccounts: ([addresses, config]) => {
      if (!Array.isArray(addresses)) throw invalidParams('Invalid param: expected an array of addresses');
      if (addresses.length > MAX_MULTIPLE_ACCOUNTS) throw invalidParams(`Too many inputs provided; max ${MAX_MULTIPLE_ACCOUNTS}`);
      addresses.forEach(parsePublicKey);
      return wrap(addresses.map((address) => encodeAccount(chain.getAccount(address as string), config as Config)));
    },
    getTokenAccountBalance: ([address]) => {
      const account = chain.getAccount(parsePublicKey(address).toBase58());
      const parsed = account && parseTokenAccount(account.data);
      if (!parsed) throw invalidParams('Invalid param: not a Token account');
      return wrap(uiTokenAmount(parsed.amount, chain.mintDecimals(parsed.mint) ?? 0));
    },
    getTokenAccountsByOwner: ([owner, filter, config]) => {
      const f = (filter ?? {}) as { mint?: string; programId?: string };
      if (!f.mint && !f.programId) throw invalidParams('Invalid param: expected a mint or programId filter');
      const accounts = chain.tokenAccountsByOwner(owner as string, f);
      return wrap(accounts.map(({ pubkey, account }) => ({ pubkey, account: encodeAccount(account, config as Config) })));
    },
    requestAirdrop: ([address, lamports]) => chain.airdrop(address as string, lamports as number),
    sendTransaction: ([encoded, config]) => {
      const c = (config ?? {}) as { encoding?: string; skipPreflight?: boolean };
      return chain.submit(decodeWire(encoded, c.encoding ?? 'base58'), { skipPreflight: c.skipPreflight === true });
    },
    simulateTransaction: ([encoded, config]) => {
      const c = (config ?? {}) as { encoding?: string; sigVerify?: boolean; replaceRecentBlockhash?: boolean };
      return wrap(chain.simulate(decodeWire(encoded, c.encoding ?? 'base58'), c));
    },
    getSignatureStatuses: ([signatures]) => {
      if (!Array.isArray(signatures)) throw invalidParams('Invalid param: expected an array of signatures');
      if (signatures.length > 256) throw invalidParams('Too many inputs provided; max 256');
      return wrap(
        signatures.map((signature) => {
          const record = chain.history.get(signature as string);
          if (!record) return null;
          return {
            slot: record.slot,
            confirmations: null,
            err: record.err,
            status: record.err === null ? { Ok: null } : { Err: record.err },
            confirmationStatus: 'finalized',
          };
        }),
      );
    },
    getTransaction: ([signature, config]) => {
      const c = (typeof config === 'string' ? { encoding: 'json' } : (config ?? {})) as { encoding?: string; maxSupportedTransactionVersion?: number };
      const record = chain.history.get(signature as string);
      if (!record) return null;
      return encodeTransaction(record, c.encoding ?? 'json', c.maxSupportedTransactionVersion);
    },
    getSignaturesForAddress: ([address, config]) => {
      parsePublicKey(address);
      const c = (config ?? {}) as { limit?: number; before?: string; until?: string };
      return chain.history.signaturesFor(address as string, c).map((record) => ({
        signature: record.signature,
        slot: record.slot,
        err: record.err,
        memo: record.memo,
        blockTime: record.blockTime,
        confirmationStatus: 'finalized',
      }));
    },
    getBlockTime: ([slot]) => {
      if (!Number.isSafeInteger(slot)) throw invalidParams('Invalid param: slot must be an integer');
      return Math.floor(Date.now() / 1000) - Math.max(0, Math.round(((chain.clock.slot - (slot as number)) * 400) / 1000));
    },
  };
}

function decodeWire(encoded: unknown, encoding: string): Uint8Array {
  if (typeof encoded !== 'string') throw invalidParams('Invalid param: transaction must be a string');
  if (encoding === 'base64') return Buffer.from(encoded, 'base64');
  if (encoding === 'base58') {
    try {
      return bs58.decode(encoded);
    } catch {
      throw invalidParams('Invalid param: invalid base58 encoding');
    }
  }
  throw invalidParams(`Invalid param: unsupported encoding ${encoding}`);
}

function encodeAccount(account: AccountView | null, config: Config): unknown {
  if (!account) return null;
  const encoding = (config?.encoding as string | undefined) ?? 'base64';
  const slice = config?.dataSlice as { offset: number; length: number } | undefined;
  const data = slice ? account.data.subarray(slice.offset, slice.offset + slice.length) : account.data;
  // jsonParsed falls back to base64 for data it cannot parse; the local chain parses nothing.
  let encoded: unknown;
  if (encoding === 'base58') encoded = [bs58.encode(data), 'base58'];
  else if (encoding === 'base64' || encoding === 'jsonParsed') encoded = [Buffer.from(data).toString('base64'), 'base64'];
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

function encodeTransaction(record: TransactionRecord, encoding: string, maxSupportedVersion: number | undefined): unknown {
  if (record.version !== 'legacy' && (maxSupportedVersion === undefined || maxSupportedVersion < record.version)) {
    throw new RpcError(
      -32015,
      `Transaction version (${record.version}) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": ${record.version}`,
    );
  }
  let transaction: unknown;
  if (encoding === 'base64') transaction = [Buffer.from(record.raw).toString('base64'), 'base64'];
  else if (encoding === 'base58') transaction = [bs58.encode(record.raw), 'base58'];
  else if (encoding === 'json') transaction = jsonTransaction(record);
  else throw invalidParams(`Invalid param: unsupported encoding ${encoding}`);
  return {
    slot: record.slot,
    blockTime: record.blockTime,
    ...(maxSupportedVersion !== undefined ? { version: record.version } : {}),
    transaction,
    meta: {
      err: record.err,
      status: record.err === null ? { Ok: null } : { Err: record.err },
      fee: record.fee,
      preBalances: record.preBalances,
      postBalances: record.postBalances,
      innerInstructions: record.innerInstructions,
      logMessages: record.logMessages,
      preTokenBalances: record.preTokenBalances,
      postTokenBalances: record.postTokenBalances,
      rewards: [],
      loadedAddresses: { writable: [], readonly: [] },
      computeUnitsConsumed: record.computeUnitsConsumed,
    },
  };
}

function jsonTransaction(record: TransactionRecord): unknown {
  // Re-parsed on demand: keeping JSON forms of every transaction in memory would double the history's size.
  const tx = VersionedTransaction.deserialize(record.raw);
  const message = tx.message;
  return {
    signatures: tx.signatures.map((signature) => bs58.encode(signature)),
    message: {
      accountKeys: message.staticAccountKeys.map((key) => key.toBase58()),
      header: message.header,
      recentBlockhash: message.recentBlockhash,
      instructions: message.compiledInstructions.map((ix) => ({
        programIdIndex: ix.programIdIndex,
        accounts: ix.accountKeyIndexes,
        data: bs58.encode(ix.data),
        stackHeight: null,
      })),
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
