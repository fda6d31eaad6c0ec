// The local chain's ledger: litesvm plus what a validator adds around it (blockhash validity, duplicate detection,
// transaction history with balances, a faucet, persistence). Synchronous: Node's single thread orders everything.

import { sign as ed25519Sign } from 'node:crypto';
import { PublicKey, SystemProgram, Transaction, VersionedTransaction } from '@solana/web3.js';
import bs58 from 'bs58';
import { Account, FailedTransactionMetadata, LiteSvm } from 'litesvm/dist/internal.js';
import type { TransactionMetadata } from 'litesvm/dist/internal.js';
import { privateKeyFromSecret } from '../api/signing.js';
import { keypairFromSeed } from '../wallet/keypair.js';
import type { Keypair } from '../wallet/keypair.js';
import { BlockhashClock } from './blockhash-clock.js';
import { TransactionHistory } from './history.js';
import type { InnerInstructionRecord, TransactionRecord } from './history.js';
import { faucetSeedOf, genesisHashOf, Journal, newGenesis } from './journal.js';
import type { Genesis } from './journal.js';
import { invalidParams, preflightFailure, RpcError, toRpcTransactionError } from './svm-errors.js';
import type { RpcTransactionError } from './svm-errors.js';
import { isTokenProgram, parseMintDecimals, parseTokenAccount, TOKEN_2022_PROGRAM, TOKEN_PROGRAM, uiTokenAmount } from './token-accounts.js';
import type { TokenBalance } from './token-accounts.js';

export const LAMPORTS_PER_SIGNATURE = 5000;
const FAUCET_LAMPORTS = 10n ** 18n; // a billion SOL
const MEMO_PROGRAMS = new Set(['MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr', 'Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo']);

export interface AccountView {
  lamports: bigint;
  data: Uint8Array;
  owner: string;
  executable: boolean;
  rentEpoch: bigint;
}

export interface SimulationValue {
  err: RpcTransactionError | null;
  logs: string[];
  accounts: null;
  unitsConsumed: number;
  returnData: null;
}

interface ParsedTransaction {
  tx: VersionedTransaction;
  raw: Uint8Array;
  signature: string;
}

type LandedListener = (record: TransactionRecord) => void;

export class ChainState {
  readonly history = new TransactionHistory();
  readonly clock: BlockhashClock;
  readonly genesisHash: string;
  readonly faucet: Keypair;
  private readonly svm = new LiteSvm();
  private readonly listeners = new Set<LandedListener>();
  private svmSlot = -1;

  private constructor(
    genesis: Genesis,
    private readonly journal: Journal | undefined,
  ) {
    this.genesisHash = genesisHashOf(genesis);
    this.faucet = keypairFromSeed(faucetSeedOf(genesis));
    // Blockhash validity is ours (rotating hashes); litesvm's single fixed blockhash would reject every real client.
    this.svm.setBlockhashCheck(false);
    this.svm.setAccount(bs58.decode(this.faucet.publicKey), new Account(FAUCET_LAMPORTS, new Uint8Array(), SystemProgram.programId.toBytes(), false, 0n));
    const entries = journal?.read() ?? [];
    this.replay(entries);
    this.clock = new BlockhashClock(this.genesisHash, (entries.at(-1)?.slot ?? 0) + 1);
  }

  /** A fresh in-memory chain, or the chain stored in `dataDir` (created when missing). */
  static open({ dataDir }: { dataDir?: string } = {}): ChainState {
    const journal = dataDir ? Journal.open(dataDir) : undefined;
    return new ChainState(journal?.genesis ?? newGenesis(), journal);
  }

  close(): void {
    this.clock.stop();
    this.journal?.close();
  }

  onLanded(listener: LandedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * sendTransaction. Like a validator: with preflight, failures come back as RPC errors; without it, the signature
   * is returned and a transaction that cannot land (stale blockhash, bad signature, duplicate) is silently dropped.
   */
  submit(bytes: Uint8Array, { skipPreflight = false } = {}): string {
    const parsed = parseWireTransaction(bytes);
    if (this.history.has(parsed.signature)) {
      if (skipPreflight) return parsed.signature;
      throw preflightFailure('AlreadyProcessed', []);
    }
    if (!this.clock.isValid(parsed.tx.message.recentBlockhash)) {
      if (skipPreflight) return parsed.signature;
      throw preflightFailure('BlockhashNotFound', []);
    }
    if (!skipPreflight) {
      this.syncSlot(this.clock.slot);
      const simulated = this.svm.simulateVersionedTransaction(parsed.raw);
      if (simulated instanceof FailedTransactionMetadata) {
        const meta = simulated.meta();
        throw preflightFailure(toRpcTransactionError(simulated.err()), meta.logs(), Number(meta.computeUnitsConsumed()));
      }
    }
    this.execute(parsed, this.clock.slot, Math.floor(Date.now() / 1000), true);
    return parsed.signature;
  }

  simulate(bytes: Uint8Array, { sigVerify = false, replaceRecentBlockhash = false } = {}): SimulationValue {
    if (sigVerify && replaceRecentBlockhash) throw invalidParams('sigVerify may not be used with replaceRecentBlockhash');
    const parsed = parseWireTransaction(bytes);
    let raw = parsed.raw;
    if (replaceRecentBlockhash) {
      parsed.tx.message.recentBlockhash = this.clock.latest().blockhash;
      raw = parsed.tx.serialize();
    } else if (!this.clock.isValid(parsed.tx.message.recentBlockhash)) {
      return { err: 'BlockhashNotFound', logs: [], accounts: null, unitsConsumed: 0, returnData: null };
    }
    this.syncSlot(this.clock.slot);
    this.svm.setSigverify(sigVerify);
    let result;
    try {
      result = this.svm.simulateVersionedTransaction(raw);
    } finally {
      this.svm.setSigverify(true);
    }
    const meta = result.meta();
    return {
      err: result instanceof FailedTransactionMetadata ? toRpcTransactionError(result.err()) : null,
      logs: meta.logs(),
      accounts: null,
      unitsConsumed: Number(meta.computeUnitsConsumed()),
      returnData: null,
    };
  }

  /** requestAirdrop: a real transfer from the faucet, so it has a signature, history and survives restarts. */
  airdrop(recipient: string, lamports: number): string {
    const to = parsePublicKey(recipient);
    if (!Number.isSafeInteger(lamports) || lamports <= 0) throw invalidParams('Invalid param: lamports must be a positive integer');
    for (;;) {
      const tx = new Transaction({ feePayer: new PublicKey(this.faucet.publicKey), recentBlockhash: this.clock.latest().blockhash });
      tx.add(SystemProgram.transfer({ fromPubkey: new PublicKey(this.faucet.publicKey), toPubkey: to, lamports }));
      const signature = ed25519Sign(null, tx.serializeMessage(), privateKeyFromSecret(this.faucet.secretKey));
      tx.addSignature(new PublicKey(this.faucet.publicKey), signature);
      // Two identical airdrops in one slot would be one transaction: move to a fresh blockhash instead.
      if (this.history.has(bs58.encode(signature))) {
        this.clock.advance();
        continue;
      }
      return this.submit(tx.serialize());
    }
  }

  getAccount(address: string): AccountView | null {
    const account = this.svm.getAccount(parsePublicKey(address).toBytes());
    if (!account) return null;
    const lamports = account.lamports();
    const data = account.data();
    if (lamports === 0n && data.length === 0) return null;
    return { lamports, data, owner: bs58.encode(account.owner()), executable: account.executable(), rentEpoch: account.rentEpoch() };
  }

  getBalance(address: string): bigint {
    return this.svm.getBalance(parsePublicKey(address).toBytes()) ?? 0n;
  }

  minimumBalanceForRentExemption(dataLength: number): bigint {
    return this.svm.minimumBalanceForRentExemption(BigInt(dataLength));
  }

  tokenAccountsByOwner(owner: string, filter: { mint?: string; programId?: string }): { pubkey: string; account: AccountView }[] {
    const ownerBytes = parsePublicKey(owner).toBytes();
    const mintBytes = filter.mint ? parsePublicKey(filter.mint).toBytes() : undefined;
    const programs = filter.programId ? [filter.programId] : [TOKEN_PROGRAM, TOKEN_2022_PROGRAM];
    if (filter.programId && !isTokenProgram(filter.programId)) throw invalidParams(`Invalid param: unrecognized Token program id`);
    const out: { pubkey: string; account: AccountView }[] = [];
    for (const program of programs) {
      for (const entry of this.svm.getProgramAccounts(bs58.decode(program))) {
        const account = entry.account();
        const data = account.data();
        const parsed = parseTokenAccount(data);
        if (!parsed || !bytesEqual(parsed.owner, ownerBytes)) continue;
        if (mintBytes && !bytesEqual(parsed.mint, mintBytes)) continue;
        out.push({
          pubkey: bs58.encode(entry.address),
          account: { lamports: account.lamports(), data, owner: program, executable: false, rentEpoch: account.rentEpoch() },
        });
      }
    }
    return out;
  }

  /** Decimals of a mint, for token amount answers. */
  mintDecimals(mint: Uint8Array | string): number | undefined {
    const account = this.svm.getAccount(typeof mint === 'string' ? bs58.decode(mint) : mint);
    if (!account || !isTokenProgram(bs58.encode(account.owner()))) return undefined;
    return parseMintDecimals(account.data());
  }

  private replay(entries: { slot: number; blockTime: number; tx: string }[]): void {
    if (entries.length === 0) return;
    // Signatures and blockhashes were checked when these were first accepted.
    this.svm.setSigverify(false);
    try {
      for (const entry of entries) this.execute(parseWireTransaction(Buffer.from(entry.tx, 'base64')), entry.slot, entry.blockTime, false);
    } finally {
      this.svm.setSigverify(true);
    }
  }

  /** Keeps the Clock sysvar's slot in step with ours, so programs reading it see the same slot clients do. */
  private syncSlot(slot: number): void {
    if (slot === this.svmSlot) return;
    this.svm.warpToSlot(BigInt(slot));
    this.svmSlot = slot;
  }

  private execute(parsed: ParsedTransaction, slot: number, blockTime: number, live: boolean): void {
    this.syncSlot(slot);
    const message = parsed.tx.message;
    const keys = message.staticAccountKeys;
    const programIndexes = new Set(message.compiledInstructions.map((ix) => ix.programIdIndex));
    const pre = this.snapshot(keys, programIndexes);
    const result = this.svm.sendVersionedTransaction(parsed.raw);
    const failed = result instanceof FailedTransactionMetadata;
    const meta: TransactionMetadata = failed ? result.meta() : result;
    const post = this.snapshot(keys, programIndexes);
    // A failed transaction lands (and appears in history) only when it was charged its fee, as on a validator.
    if (failed && !(post.lamports[0]! < pre.lamports[0]!)) return;
    const record: TransactionRecord = {
      signature: parsed.signature,
      slot,
      blockTime,
      raw: parsed.raw,
      version: message.version === 'legacy' ? 'legacy' : 0,
      accountKeys: keys.map((key) => key.toBase58()),
      err: failed ? toRpcTransactionError(result.err()) : null,
      fee: LAMPORTS_PER_SIGNATURE * message.header.numRequiredSignatures,
      preBalances: pre.lamports,
      postBalances: post.lamports,
      preTokenBalances: pre.tokens,
      postTokenBalances: post.tokens,
      logMessages: meta.logs(),
      innerInstructions: innerInstructionsOf(meta),
      computeUnitsConsumed: Number(meta.computeUnitsConsumed()),
      memo: memoOf(parsed.tx),
    };
    this.history.add(record);
    if (live) {
      this.journal?.append({ slot, blockTime, tx: Buffer.from(parsed.raw).toString('base64') });
      for (const listener of this.listeners) listener(record);
    }
  }

  private snapshot(keys: PublicKey[], programIndexes: Set<number>): { lamports: number[]; tokens: TokenBalance[] } {
    const lamports: number[] = [];
    const tokens: TokenBalance[] = [];
    const decimals = new Map<string, number | undefined>();
    keys.forEach((key, index) => {
      const bytes = key.toBytes();
      // Programs are large executables: their balance is all we need.
      if (programIndexes.has(index)) {
        lamports.push(Number(this.svm.getBalance(bytes) ?? 0n));
        return;
      }
      const account = this.svm.getAccount(bytes);
      lamports.push(Number(account?.lamports() ?? 0n));
      if (!account) return;
      const programId = bs58.encode(account.owner());
      if (!isTokenProgram(programId)) return;
      const parsed = parseTokenAccount(account.data());
      if (!parsed) return;
      const mint = bs58.encode(parsed.mint);
      if (!decimals.has(mint)) decimals.set(mint, this.mintDecimals(parsed.mint));
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

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function innerInstructionsOf(meta: TransactionMetadata): InnerInstructionRecord[] {
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

function memoOf(tx: VersionedTransaction): string | null {
  const keys = tx.message.staticAccountKeys;
  const memos = tx.message.compiledInstructions
    .filter((ix) => MEMO_PROGRAMS.has(keys[ix.programIdIndex]!.toBase58()))
    .map((ix) => `[${Buffer.from(ix.data).length}] ${Buffer.from(ix.data).toString('utf8')}`);
  return memos.length > 0 ? memos.join('; ') : null;
}
