// The local chain's ledger: litesvm plus what a validator adds around it (blockhash validity, duplicate detection,
// transaction history with balances, a faucet, persistence). Synchronous: Node's single thread orders everything.

import { sign as ed25519Sign } from 'node:crypto';
import { PublicKey, SystemProgram, Transaction } from '@solana/web3.js';
import bs58 from 'bs58';
import { Account, FailedTransactionMetadata, LiteSvm } from 'litesvm/dist/internal.js';
import type { TransactionMetadata } from 'litesvm/dist/internal.js';
import { privateKeyFromSecret } from '../api/signing.js';
import { keypairFromSeed } from '../wallet/keypair.js';
import type { Keypair } from '../wallet/keypair.js';
import { BlockhashClock } from './blockhash-clock.js';
import type { CommitmentMode } from './commitment.js';
import { transactionFee } from './fees.js';
import { TransactionHistory } from './history.js';
import type { TransactionRecord } from './history.js';
import { faucetSeedOf, genesisHashOf, Journal, newGenesis, validatorSeedOf } from './journal.js';
import type { Genesis } from './journal.js';
import { blockhashNotFound, simulationValueOf } from './simulation.js';
import type { SimulateOptions, SimulationValue } from './simulation.js';
import { SlotTimes } from './slot-times.js';
import { invalidParams, preflightFailure, toRpcTransactionError } from './svm-errors.js';
import { innerInstructionsOf, viewOf, type AccountView } from './svm-views.js';
import { balancesOf, mintDecimalsOf, tokenAccountsHeldBy, tokenAccountsOfMint, type KeyedAccount } from './token-queries.js';
import { memoOf, parsePublicKey, parseWireTransaction, type ParsedTransaction } from './wire-transaction.js';

export { LAMPORTS_PER_SIGNATURE } from './fees.js';
export const FAUCET_LAMPORTS = 10n ** 18n; // a billion SOL

export interface ChainOptions {
  dataDir?: string;
  commitment?: CommitmentMode;
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
  private readonly slotTimes: SlotTimes;
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
    this.slotTimes = new SlotTimes(this.startSlot, saved, journal);
    this.clock = new BlockhashClock(this.genesisHash, this.startSlot);
    this.clock.onSlot((slot) => this.slotTimes.reach(slot));
  }

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
    return this.slotTimes.timeOf(slot);
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
      return blockhashNotFound(accountKeys);
    }
    this.syncSlot(this.clock.slot);
    this.svm.setSigverify(sigVerify);
    let result;
    try {
      result = this.svm.simulateVersionedTransaction(raw);
    } finally {
      this.svm.setSigverify(true);
    }
    return simulationValueOf(result, {
      requested,
      innerInstructions: options.innerInstructions,
      replacementBlockhash,
      accountKeys,
      currentAccount: (address) => this.getAccount(address),
    });
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
  tokenAccounts(key: 'owner' | 'delegate', address: string, filter: { mint?: string; programId?: string }): KeyedAccount[] {
    return tokenAccountsHeldBy(this.svm, key, address, filter);
  }

  /** Every token account of one mint with its amount (getTokenLargestAccounts). */
  tokenAccountsOfMint(mint: string, program: string): { pubkey: string; amount: bigint }[] {
    return tokenAccountsOfMint(this.svm, mint, program);
  }

  /** Decimals of a mint, for token amount answers. */
  mintDecimals(mint: Uint8Array | string): number | undefined {
    return mintDecimalsOf(this.svm, mint);
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
    const pre = balancesOf(this.svm, keys, programIndexes);
    const result = this.svm.sendVersionedTransaction(parsed.raw);
    const failed = result instanceof FailedTransactionMetadata;
    const meta: TransactionMetadata = failed ? result.meta() : result;
    const post = balancesOf(this.svm, keys, programIndexes);
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
}
