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
import { BlockhashClock, SLOT_MS } from './blockhash-clock.js';
import type { CommitmentMode } from './commitment.js';
import { transactionFee } from './fees.js';
import { TransactionHistory } from './history.js';
import type { InnerInstructionRecord, TransactionRecord } from './history.js';
import { faucetSeedOf, genesisHashOf, Journal, newGenesis, validatorSeedOf } from './journal.js';
import type { Genesis } from './journal.js';
import { invalidParams, preflightFailure, RpcError, toRpcTransactionError } from './svm-errors.js';
import type { RpcTransactionError } from './svm-errors.js';
import { isTokenProgram, parseMintDecimals, parseTokenAccount, TOKEN_2022_PROGRAM, TOKEN_PROGRAM, uiTokenAmount } from './token-accounts.js';
import type { ParsedTokenAccount, TokenBalance } from './token-accounts.js';

export { LAMPORTS_PER_SIGNATURE } from './fees.js';
export const FAUCET_LAMPORTS = 10n ** 18n; // a billion SOL
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
  /** The requested accounts as the transaction leaves them (null entries for accounts that would not exist). */
  accounts: (AccountView | null)[] | null;
  unitsConsumed: number;
  returnData: { programId: string; data: [string, 'base64'] } | null;
  innerInstructions: InnerInstructionRecord[] | null;
  replacementBlockhash: { blockhash: string; lastValidBlockHeight: number } | null;
  /** Account keys of the simulated message, so callers can resolve inner-instruction indexes. */
  accountKeys: string[];
}

export interface SimulateOptions {
  sigVerify?: boolean;
  replaceRecentBlockhash?: boolean;
  /** Addresses whose post-simulation state to return. */
  accounts?: string[];
  innerInstructions?: boolean;
}

export interface ChainOptions {
  dataDir?: string;
  commitment?: CommitmentMode;
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
  /** The single validator's identity (and leader of every slot), derived from the genesis seed. */
  readonly validator: Keypair;
  readonly voteAccount: Keypair;
  readonly commitment: CommitmentMode;
  /** The first slot this process built; the ledger up to it was restored from disk. */
  readonly startSlot: number;
  private readonly startTime: number;
  /** Unix seconds at which each slot from startSlot on began (for getBlockTime of empty slots). */
  private readonly slotTimes: number[] = [];
  private readonly svm = new LiteSvm();
  private readonly listeners = new Set<LandedListener>();
  private svmSlot = -1;

  private constructor(
    genesis: Genesis,
    private readonly journal: Journal | undefined,
    commitment: CommitmentMode,
  ) {
    this.genesisHash = genesisHashOf(genesis);
    this.faucet = keypairFromSeed(faucetSeedOf(genesis));
    this.validator = keypairFromSeed(validatorSeedOf(genesis, 'identity'));
    this.voteAccount = keypairFromSeed(validatorSeedOf(genesis, 'vote'));
    this.commitment = commitment;
    // Blockhash validity is ours (rotating hashes); litesvm's single fixed blockhash would reject every real client.
    this.svm.setBlockhashCheck(false);
    this.svm.setAccount(bs58.decode(this.faucet.publicKey), new Account(FAUCET_LAMPORTS, new Uint8Array(), SystemProgram.programId.toBytes(), false, 0n));
    const entries = journal?.read() ?? [];
    this.replay(entries);
    // Resume after the last slot the previous run reached, not after its last transaction: slots never repeat, and
    // the blockhashes of the last 150 slots before the restart stay valid (they are a function of genesis and slot).
    const saved = journal?.readSlot();
    this.startSlot = Math.max(entries.at(-1)?.slot ?? 0, saved?.slot ?? 0) + 1;
    this.startTime = Math.floor(Date.now() / 1000);
    this.savedSlot = saved;
    this.clock = new BlockhashClock(this.genesisHash, this.startSlot);
    this.slotTimes.push(this.startTime);
    this.clock.onSlot((slot) => {
      const now = Math.floor(Date.now() / 1000);
      while (this.startSlot + this.slotTimes.length <= slot) this.slotTimes.push(now);
      this.journal?.writeSlot({ slot, time: now });
    });
  }

  private readonly savedSlot: { slot: number; time: number } | undefined;

  /** A fresh in-memory chain, or the chain stored in `dataDir` (created when missing). */
  static open({ dataDir, commitment = 'instant' }: ChainOptions = {}): ChainState {
    const journal = dataDir ? Journal.open(dataDir) : undefined;
    return new ChainState(journal?.genesis ?? newGenesis(), journal, commitment);
  }

  close(): void {
    this.clock.stop();
    this.journal?.writeSlot({ slot: this.clock.slot, time: Math.floor(Date.now() / 1000) });
    this.journal?.close();
  }

  /**
   * Unix seconds of a slot's block: its transactions' time, the time this process reached it, or an estimate from
   * the slot length for empty slots of earlier runs. Undefined for slots not reached yet.
   */
  blockTime(slot: number): number | undefined {
    if (slot > this.clock.slot || slot < 0) return undefined;
    const landed = this.history.inSlot(slot)[0];
    if (landed) return landed.blockTime;
    if (slot >= this.startSlot) return this.slotTimes[slot - this.startSlot] ?? this.startTime;
    const anchor = this.savedSlot ?? { slot: this.startSlot, time: this.startTime };
    return Math.max(0, anchor.time - Math.round(((anchor.slot - slot) * SLOT_MS) / 1000));
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

  simulate(bytes: Uint8Array, options: SimulateOptions = {}): SimulationValue {
    const { sigVerify = false, replaceRecentBlockhash = false } = options;
    if (sigVerify && replaceRecentBlockhash) throw invalidParams('sigVerify may not be used with replaceRecentBlockhash');
    const requested = options.accounts?.map((address) => parsePublicKey(address).toBase58());
    const parsed = parseWireTransaction(bytes);
    let raw = parsed.raw;
    let replacementBlockhash: SimulationValue['replacementBlockhash'] = null;
    const accountKeys = parsed.tx.message.staticAccountKeys.map((key) => key.toBase58());
    if (replaceRecentBlockhash) {
      replacementBlockhash = this.clock.latest();
      parsed.tx.message.recentBlockhash = replacementBlockhash.blockhash;
      raw = parsed.tx.serialize();
    } else if (!this.clock.isValid(parsed.tx.message.recentBlockhash)) {
      return {
        err: 'BlockhashNotFound',
        logs: [],
        accounts: null,
        unitsConsumed: 0,
        returnData: null,
        innerInstructions: null,
        replacementBlockhash: null,
        accountKeys,
      };
    }
    this.syncSlot(this.clock.slot);
    this.svm.setSigverify(sigVerify);
    let result;
    try {
      result = this.svm.simulateVersionedTransaction(raw);
    } finally {
      this.svm.setSigverify(true);
    }
    const failure = result instanceof FailedTransactionMetadata ? result : undefined;
    const failed = failure !== undefined;
    const postAccounts = result instanceof FailedTransactionMetadata ? [] : result.postAccounts();
    const meta = result.meta();
    let accounts: SimulationValue['accounts'] = null;
    if (requested) {
      // A failed simulation changes nothing (but the fee), so validators return null entries; a successful one
      // returns the accounts as the transaction leaves them, falling back to the current state for untouched ones.
      const post = new Map(postAccounts.map((entry) => [bs58.encode(entry.address), entry.account()] as const));
      accounts = failed
        ? requested.map(() => null)
        : requested.map((address) => {
            const account = post.get(address);
            return account ? viewOf(account) : this.getAccount(address);
          });
    }
    const returned = meta.returnData();
    const returnProgram = bs58.encode(returned.programId());
    return {
      err: failure ? toRpcTransactionError(failure.err()) : null,
      logs: meta.logs(),
      accounts,
      unitsConsumed: Number(meta.computeUnitsConsumed()),
      returnData:
        returned.data().length > 0 || returnProgram !== '11111111111111111111111111111111'
          ? { programId: returnProgram, data: [Buffer.from(returned.data()).toString('base64'), 'base64'] }
          : null,
      innerInstructions: options.innerInstructions ? innerInstructionsOf(meta) : null,
      replacementBlockhash,
      accountKeys,
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
    return account ? viewOf(account) : null;
  }

  /** Every account a program owns (getProgramAccounts). */
  programAccounts(programId: string): { pubkey: string; account: AccountView }[] {
    const out: { pubkey: string; account: AccountView }[] = [];
    for (const entry of this.svm.getProgramAccounts(parsePublicKey(programId).toBytes())) {
      const account = viewOf(entry.account());
      if (account) out.push({ pubkey: bs58.encode(entry.address), account });
    }
    return out;
  }

  getBalance(address: string): bigint {
    return this.svm.getBalance(parsePublicKey(address).toBytes()) ?? 0n;
  }

  minimumBalanceForRentExemption(dataLength: number): bigint {
    return this.svm.minimumBalanceForRentExemption(BigInt(dataLength));
  }

  /** Token accounts (SPL Token and Token-2022) whose owner or delegate is `address`, optionally of one mint or program. */
  tokenAccounts(
    key: 'owner' | 'delegate',
    address: string,
    filter: { mint?: string; programId?: string },
  ): { pubkey: string; account: AccountView }[] {
    const wanted = parsePublicKey(address).toBytes();
    const mintBytes = filter.mint ? parsePublicKey(filter.mint).toBytes() : undefined;
    if (filter.programId && !isTokenProgram(filter.programId)) throw invalidParams(`Invalid param: unrecognized Token program id`);
    const programs = filter.programId ? [filter.programId] : [TOKEN_PROGRAM, TOKEN_2022_PROGRAM];
    const out: { pubkey: string; account: AccountView }[] = [];
    for (const program of programs) {
      for (const { pubkey, account, parsed } of this.tokenAccountsOf(program)) {
        const holder = key === 'owner' ? parsed.owner : parsed.delegate;
        if (!holder || !bytesEqual(holder, wanted)) continue;
        if (mintBytes && !bytesEqual(parsed.mint, mintBytes)) continue;
        out.push({ pubkey, account });
      }
    }
    return out;
  }

  /** Every token account of one mint with its amount (getTokenLargestAccounts). */
  tokenAccountsOfMint(mint: string, program: string): { pubkey: string; amount: bigint }[] {
    const mintBytes = parsePublicKey(mint).toBytes();
    return this.tokenAccountsOf(program)
      .filter(({ parsed }) => bytesEqual(parsed.mint, mintBytes))
      .map(({ pubkey, parsed }) => ({ pubkey, amount: parsed.amount }));
  }

  private tokenAccountsOf(program: string): { pubkey: string; account: AccountView; parsed: ParsedTokenAccount }[] {
    const out: { pubkey: string; account: AccountView; parsed: ParsedTokenAccount }[] = [];
    for (const entry of this.svm.getProgramAccounts(bs58.decode(program))) {
      const account = viewOf(entry.account());
      const parsed = account && parseTokenAccount(account.data);
      if (account && parsed) out.push({ pubkey: bs58.encode(entry.address), account, parsed });
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
    const fee = transactionFee(
      message.header.numRequiredSignatures,
      message.compiledInstructions.map((ix) => ({ programId: keys[ix.programIdIndex]!.toBase58(), data: ix.data })),
    );
    // A failed transaction lands (and appears in history) only when it was charged its fee, as on a validator.
    if (failed && !(post.lamports[0]! < pre.lamports[0]!)) return;
    const record: TransactionRecord = {
      signature: parsed.signature,
      slot,
      blockTime,
      raw: parsed.raw,
      version: message.version === 'legacy' ? 'legacy' : 0,
      accountKeys: keys.map((key) => key.toBase58()),
      header: message.header,
      err: failed ? toRpcTransactionError(result.err()) : null,
      fee: fee.fee,
      computeUnitPrice: fee.computeUnitPrice,
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

function viewOf(account: Account): AccountView | null {
  const lamports = account.lamports();
  const data = account.data();
  if (lamports === 0n && data.length === 0) return null;
  return { lamports, data, owner: bs58.encode(account.owner()), executable: account.executable(), rentEpoch: account.rentEpoch() };
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
