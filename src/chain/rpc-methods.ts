// The Solana JSON-RPC HTTP methods the local chain answers, in the shapes of the spec (solana.com/docs/rpc/http)
// and of agave's rpc.rs; unmodified @solana/web3.js, @solana/kit and @solana/spl-token clients work against it.
// Accounts, tokens and transactions live here; the single-validator view of the cluster is cluster-methods.ts.

import { VersionedMessage } from '@solana/web3.js';
import bs58 from 'bs58';
import type { ChainState } from './chain-state.js';
import { parsePublicKey } from './wire-transaction.js';
import { createClusterMethods } from './cluster-methods.js';
import type { ClusterEndpoints } from './cluster-methods.js';
import { commitmentOf, reached, slotAt, statusOf } from './commitment.js';
import type { Commitment } from './commitment.js';
import { transactionFee } from './fees.js';
import { parseInstruction } from './json-parsed.js';
import { configOf, encodeAccount, encodeTransaction, isWritable, programAccountFilter } from './rpc-encoding.js';
import type { Config } from './rpc-encoding.js';
import { invalidParams, RpcError } from './svm-errors.js';
import { isTokenProgram, parseMintDecimals, parseTokenAccount, uiTokenAmount } from './token-accounts.js';

export type RpcHandler = (params: unknown[]) => unknown;

export const API_VERSION = '2.2.0';
const MAX_MULTIPLE_ACCOUNTS = 100;
const MAX_PRIORITIZATION_FEE_SLOTS = 150;
const MAX_PRIORITIZATION_FEE_ACCOUNTS = 128;
const LARGEST_ACCOUNTS = 20;

/** Reads of the chain as of a commitment level: the slot a request is answered at, and the `{context, value}` wrapper. */
export interface RpcContext {
  chain: ChainState;
  commitmentOf(config: Config): Commitment;
  /** The slot a request with this config is answered at; fails when it is below the config's minContextSlot. */
  slotFor(config: Config): number;
  wrap(value: unknown, config?: Config): { context: { apiVersion: string; slot: number }; value: unknown };
  decimalsOf(mint: string): number | undefined;
}

export function createRpcMethods(chain: ChainState, endpoints: ClusterEndpoints): Record<string, RpcHandler> {
  const commitment = (config: Config) => commitmentOf(config?.commitment);
  const slotFor = (config: Config) => {
    const slot = slotAt(chain.commitment, chain.clock.slot, commitment(config));
    const min = config?.minContextSlot;
    if (typeof min === 'number' && min > slot) throw new RpcError(-32016, 'Minimum context slot has not been reached', { contextSlot: slot });
    return slot;
  };
  const decimalsOf = (mint: string) => chain.mintDecimals(mint);
  const context: RpcContext = {
    chain,
    commitmentOf: commitment,
    slotFor,
    wrap: (value, config) => ({ context: { apiVersion: API_VERSION, slot: slotFor(config) }, value }),
    decimalsOf,
  };
  const { wrap } = context;
  const account = (address: unknown, config: Config) => encodeAccount(chain.getAccount(parsePublicKey(address).toBase58()), config, decimalsOf);
  const tokenAccounts = (key: 'owner' | 'delegate') => (params: unknown[]) => {
    const [address, filter, rawConfig] = params;
    const config = configOf(rawConfig);
    const f = (filter ?? {}) as { mint?: string; programId?: string };
    if (!f.mint && !f.programId) throw invalidParams('Invalid param: expected a mint or programId filter');
    const accounts = chain.tokenAccounts(key, address as string, f);
    return wrap(
      accounts.map(({ pubkey, account: view }) => ({ pubkey, account: encodeAccount(view, config, decimalsOf) })),
      config,
    );
  };

  return {
    ...createClusterMethods(context, endpoints),
    getHealth: () => 'ok',
    getVersion: () => ({ 'solana-core': API_VERSION, 'feature-set': 0 }),
    getGenesisHash: () => chain.genesisHash,
    getSlot: ([config]) => slotFor(configOf(config)),
    // Block height equals slot: the local chain never skips a slot.
    getBlockHeight: ([config]) => slotFor(configOf(config)),
    getTransactionCount: () => chain.history.size,
    getLatestBlockhash: ([rawConfig]) => {
      const config = configOf(rawConfig);
      const slot = slotFor(config);
      return wrap({ blockhash: chain.clock.blockhashAt(slot), lastValidBlockHeight: slot + 150 }, config);
    },
    isBlockhashValid: ([blockhash, config]) => wrap(typeof blockhash === 'string' && chain.clock.isValid(blockhash), configOf(config)),
    getFeeForMessage: ([message, config]) => {
      if (typeof message !== 'string') throw invalidParams('Invalid param: message must be a base64 string');
      let parsed: VersionedMessage;
      try {
        parsed = VersionedMessage.deserialize(Buffer.from(message, 'base64'));
      } catch {
        throw invalidParams('Invalid param: failed to deserialize message');
      }
      if (!chain.clock.isValid(parsed.recentBlockhash)) return wrap(null, configOf(config));
      const keys = parsed.staticAccountKeys;
      const instructions = parsed.compiledInstructions.map((ix) => ({ programId: keys[ix.programIdIndex]?.toBase58() ?? '', data: ix.data }));
      return wrap(transactionFee(parsed.header.numRequiredSignatures, instructions).fee, configOf(config));
    },
    getRecentPrioritizationFees: ([addresses]) => {
      const wanted = Array.isArray(addresses) ? addresses : [];
      if (wanted.length > MAX_PRIORITIZATION_FEE_ACCOUNTS) throw invalidParams(`Too many inputs provided; max ${MAX_PRIORITIZATION_FEE_ACCOUNTS}`);
      const accounts = new Set(wanted.map((address) => parsePublicKey(address).toBase58()));
      // Per slot, the lowest price any landed transaction paid (among those write-locking one of `accounts`, when given).
      const last = chain.clock.slot;
      const out: { slot: number; prioritizationFee: number }[] = [];
      for (let slot = Math.max(0, last - MAX_PRIORITIZATION_FEE_SLOTS + 1); slot <= last; slot++) {
        let min: number | undefined;
        for (const record of chain.history.inSlot(slot)) {
          if (accounts.size > 0 && !record.accountKeys.some((key, index) => accounts.has(key) && isWritable(record, index))) continue;
          min = Math.min(min ?? Infinity, record.computeUnitPrice);
        }
        out.push({ slot, prioritizationFee: min ?? 0 });
      }
      return out;
    },
    getMinimumBalanceForRentExemption: ([size]) => {
      if (!Number.isSafeInteger(size) || (size as number) < 0) throw invalidParams('Invalid param: data length must be a non-negative integer');
      return Number(chain.minimumBalanceForRentExemption(size as number));
    },
    getBalance: ([address, config]) => wrap(Number(chain.getBalance(parsePublicKey(address).toBase58())), configOf(config)),
    getAccountInfo: ([address, rawConfig]) => {
      const config = configOf(rawConfig);
      return wrap(account(address, config), config);
    },
    getMultipleAccounts: ([addresses, rawConfig]) => {
      const config = configOf(rawConfig);
      if (!Array.isArray(addresses)) throw invalidParams('Invalid param: expected an array of addresses');
      if (addresses.length > MAX_MULTIPLE_ACCOUNTS) throw invalidParams(`Too many inputs provided; max ${MAX_MULTIPLE_ACCOUNTS}`);
      return wrap(
        addresses.map((address) => account(address, config)),
        config,
      );
    },
    getProgramAccounts: ([programId, rawConfig]) => {
      const config = configOf(rawConfig);
      const matches = programAccountFilter(config?.filters);
      const accounts = chain
        .programAccounts(parsePublicKey(programId).toBase58())
        .filter(({ account: view }) => matches(view))
        .map(({ pubkey, account: view }) => ({ pubkey, account: encodeAccount(view, config, decimalsOf) }));
      return config?.withContext === true ? wrap(accounts, config) : accounts;
    },
    getTokenAccountBalance: ([address, config]) => {
      const view = chain.getAccount(parsePublicKey(address).toBase58());
      const parsed = view && isTokenProgram(view.owner) ? parseTokenAccount(view.data) : undefined;
      if (!parsed) throw invalidParams('Invalid param: not a Token account');
      return wrap(uiTokenAmount(parsed.amount, chain.mintDecimals(parsed.mint) ?? 0), configOf(config));
    },
    getTokenAccountsByOwner: tokenAccounts('owner'),
    getTokenAccountsByDelegate: tokenAccounts('delegate'),
    getTokenSupply: ([mint, config]) => {
      const view = chain.getAccount(parsePublicKey(mint).toBase58());
      const decimals = view && isTokenProgram(view.owner) ? parseMintDecimals(view.data) : undefined;
      if (!view || decimals === undefined) throw invalidParams('Invalid param: not a Token mint');
      const supply = new DataView(view.data.buffer, view.data.byteOffset, view.data.byteLength).getBigUint64(36, true);
      return wrap(uiTokenAmount(supply, decimals), configOf(config));
    },
    getTokenLargestAccounts: ([mint, config]) => {
      const address = parsePublicKey(mint).toBase58();
      const view = chain.getAccount(address);
      const decimals = view && isTokenProgram(view.owner) ? parseMintDecimals(view.data) : undefined;
      if (!view || decimals === undefined) throw invalidParams('Invalid param: not a Token mint');
      const holders = chain
        .tokenAccountsOfMint(address, view.owner)
        .sort((a, b) => (b.amount > a.amount ? 1 : b.amount < a.amount ? -1 : 0))
        .slice(0, LARGEST_ACCOUNTS);
      return wrap(
        holders.map(({ pubkey, amount }) => ({ address: pubkey, ...uiTokenAmount(amount, decimals) })),
        configOf(config),
      );
    },
    requestAirdrop: ([address, lamports]) => chain.airdrop(address as string, lamports as number),
    sendTransaction: ([encoded, rawConfig]) => {
      const c = (configOf(rawConfig) ?? {}) as { encoding?: string; skipPreflight?: boolean };
      return chain.submit(decodeWire(encoded, c.encoding ?? 'base58'), { skipPreflight: c.skipPreflight === true });
    },
    simulateTransaction: ([encoded, rawConfig]) => {
      const config = configOf(rawConfig);
      const c = (config ?? {}) as {
        encoding?: string;
        sigVerify?: boolean;
        replaceRecentBlockhash?: boolean;
        innerInstructions?: boolean;
        accounts?: { addresses?: unknown; encoding?: string };
      };
      if (c.accounts !== undefined && !Array.isArray(c.accounts.addresses)) throw invalidParams('Invalid param: accounts.addresses must be an array');
      const addresses = c.accounts?.addresses as string[] | undefined;
      const accountConfig = { encoding: c.accounts?.encoding ?? 'base64' };
      if (accountConfig.encoding === 'base58' || accountConfig.encoding === 'binary') throw invalidParams('base58 encoding not supported');
      const result = chain.simulate(decodeWire(encoded, c.encoding ?? 'base58'), { ...c, accounts: addresses });
      const { accountKeys, ...value } = result;
      if (addresses && addresses.length > accountKeys.length) throw invalidParams(`Too many accounts provided; max ${accountKeys.length}`);
      return wrap(
        {
          ...value,
          accounts: value.accounts && value.accounts.map((view) => encodeAccount(view, accountConfig, decimalsOf)),
          // A validator returns simulated inner instructions parsed where it can (UiInnerInstructions::parse).
          innerInstructions:
            value.innerInstructions &&
            value.innerInstructions.map((inner) => ({
              index: inner.index,
              instructions: inner.instructions.map((ix) =>
                parseInstruction({
                  programId: accountKeys[ix.programIdIndex]!,
                  accounts: ix.accounts.map((i) => accountKeys[i]!),
                  data: bs58.decode(ix.data),
                  stackHeight: ix.stackHeight,
                }),
              ),
            })),
        },
        config,
      );
    },
    getSignatureStatuses: ([signatures]) => {
      if (!Array.isArray(signatures)) throw invalidParams('Invalid param: expected an array of signatures');
      if (signatures.length > 256) throw invalidParams('Too many inputs provided; max 256');
      const current = chain.clock.slot;
      return wrap(
        signatures.map((signature) => {
          const record = chain.history.get(signature as string);
          if (!record) return null;
          return {
            slot: record.slot,
            ...statusOf(chain.commitment, current, record.slot),
            err: record.err,
            status: record.err === null ? { Ok: null } : { Err: record.err },
          };
        }),
        { commitment: 'processed' },
      );
    },
    getTransaction: ([signature, rawConfig]) => {
      const config = typeof rawConfig === 'string' ? { encoding: rawConfig } : configOf(rawConfig);
      const level = commitment(config);
      if (level === 'processed') throw invalidParams('Method does not support commitment below `confirmed`');
      const record = chain.history.get(signature as string);
      if (!record || !reached(chain.commitment, chain.clock.slot, record.slot, level)) return null;
      const encoded = encodeTransaction(record, {
        encoding: (config?.encoding as string | undefined) ?? 'json',
        maxSupportedVersion: config?.maxSupportedTransactionVersion as number | undefined,
      });
      return { slot: record.slot, blockTime: record.blockTime, ...encoded };
    },
    getSignaturesForAddress: ([address, rawConfig]) => {
      parsePublicKey(address);
      const config = configOf(rawConfig);
      const level = commitment(config);
      if (level === 'processed') throw invalidParams('Method does not support commitment below `confirmed`');
      const current = chain.clock.slot;
      const c = (config ?? {}) as { limit?: number; before?: string; until?: string };
      if (c.limit !== undefined && (!Number.isSafeInteger(c.limit) || c.limit < 1 || c.limit > 1000)) throw invalidParams('Invalid limit; max 1000');
      return chain.history
        .signaturesFor(address as string, c)
        .filter((record) => reached(chain.commitment, current, record.slot, level))
        .map((record) => ({
          signature: record.signature,
          slot: record.slot,
          err: record.err,
          memo: record.memo,
          blockTime: record.blockTime,
          confirmationStatus: statusOf(chain.commitment, current, record.slot).confirmationStatus,
        }));
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

