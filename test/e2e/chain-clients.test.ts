// Solana clients the project did not write — @solana/web3.js 1.x with @solana/spl-token, and @solana/kit — against
// a spawned `iocli network up`: jsonParsed reads, subscriptions, priority fees, a restart in the middle of a signing
// flow, and (after the restart, in --commitment realistic) kit's sendAndConfirmTransaction at `finalized`.
import { join } from 'node:path';
import {
  ComputeBudgetProgram,
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  SystemProgram,
  Transaction,
  TransactionInstruction,
  sendAndConfirmTransaction,
} from '@solana/web3.js';
import type { AccountInfo, Context, KeyedAccountInfo, Logs, ParsedAccountData } from '@solana/web3.js';
import {
  ASSOCIATED_TOKEN_PROGRAM_ID,
  TOKEN_PROGRAM_ID,
  createAssociatedTokenAccountInstruction,
  createMint,
  createTransferCheckedInstruction,
  getAssociatedTokenAddressSync,
  getOrCreateAssociatedTokenAccount,
  mintTo,
} from '@solana/spl-token';
import {
  AccountRole,
  address,
  appendTransactionMessageInstruction,
  createKeyPairSignerFromBytes,
  createSolanaRpc,
  createSolanaRpcSubscriptions,
  createTransactionMessage,
  getSignatureFromTransaction,
  pipe,
  sendAndConfirmTransactionFactory,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} from '@solana/kit';
import type { Signature } from '@solana/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processAlive } from '../../src/process-alive.js';
import { assertBuilt, runCli, tempHome } from '../support/cli.js';

const MEMO_PROGRAM = new PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');

interface NetworkInfo {
  rpcUrl: string;
  wsUrl: string;
  pid: number;
}

function waitFor<T>(what: string, start: (resolve: (value: T) => void) => void, timeoutMs = 15_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    start((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

describe('web3.js, spl-token and kit against a spawned `iocli network up`', () => {
  const home = tempHome();
  const dataDir = join(home.dir, 'net');
  const env = { ...home.env, IOCLI_DATA_DIR: dataDir };
  let network: NetworkInfo;
  let connection: Connection;
  let payer: Keypair;
  const pids: number[] = [];

  async function up(extra: string[] = []): Promise<NetworkInfo> {
    const result = await runCli(['network', 'up', '--detach', '--port', '0', '--rpc-port', '0', '--json', ...extra], { env, timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    const info = JSON.parse(result.stdout) as NetworkInfo;
    pids.push(info.pid);
    return info;
  }

  async function down(): Promise<void> {
    const result = await runCli(['network', 'down', '--json'], { env, timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
  }

  beforeAll(async () => {
    assertBuilt();
    network = await up();
    connection = new Connection(network.rpcUrl, { commitment: 'confirmed', wsEndpoint: network.wsUrl });
    payer = Keypair.generate();
    await connection.confirmTransaction({ signature: await connection.requestAirdrop(payer.publicKey, 20 * LAMPORTS_PER_SOL), ...(await connection.getLatestBlockhash()) });
  }, 180_000);

  afterAll(async () => {
    for (const pid of pids) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    home.cleanup();
  });

  it('answers every web3.js getParsed* call in the validator shapes', async () => {
    const mint = await createMint(connection, payer, payer.publicKey, null, 6);
    const source = await getOrCreateAssociatedTokenAccount(connection, payer, mint, payer.publicKey);
    await mintTo(connection, payer, mint, source.address, payer, 5_000_000n);
    const recipient = Keypair.generate().publicKey;
    const destination = getAssociatedTokenAddressSync(mint, recipient);
    const tx = new Transaction().add(
      createAssociatedTokenAccountInstruction(payer.publicKey, destination, recipient, mint),
      createTransferCheckedInstruction(source.address, mint, destination, payer.publicKey, 1_250_000n, 6),
      new TransactionInstruction({ programId: MEMO_PROGRAM, keys: [], data: Buffer.from('lease 42') }),
    );
    const signature = await sendAndConfirmTransaction(connection, tx, [payer]);

    const mintInfo = await connection.getParsedAccountInfo(mint);
    expect((mintInfo.value?.data as ParsedAccountData).parsed).toEqual({
      type: 'mint',
      info: { mintAuthority: payer.publicKey.toBase58(), supply: '5000000', decimals: 6, isInitialized: true, freezeAuthority: null },
    });
    expect(mintInfo.value?.data).toMatchObject({ program: 'spl-token', space: 82 });
    const wallet = await connection.getParsedAccountInfo(payer.publicKey);
    expect(wallet.value?.data).toEqual(Buffer.alloc(0)); // system accounts without data stay raw, as on a validator

    const byOwner = await connection.getParsedTokenAccountsByOwner(recipient, { mint });
    expect(byOwner.value).toHaveLength(1);
    expect(byOwner.value[0]!.account.data.parsed).toEqual({
      type: 'account',
      info: {
        isNative: false,
        mint: mint.toBase58(),
        owner: recipient.toBase58(),
        state: 'initialized',
        tokenAmount: { amount: '1250000', decimals: 6, uiAmount: 1.25, uiAmountString: '1.25' },
      },
    });

    const parsed = await connection.getParsedTransaction(signature, { maxSupportedTransactionVersion: 0 });
    const instructions = parsed!.transaction.message.instructions as { program?: string; parsed?: any }[];
    expect(instructions.map((ix) => [ix.program, typeof ix.parsed === 'string' ? ix.parsed : ix.parsed?.type])).toEqual([
      ['spl-associated-token-account', 'create'],
      ['spl-token', 'transferChecked'],
      ['spl-memo', 'lease 42'],
    ]);
    expect(instructions[1]!.parsed.info).toEqual({
      source: source.address.toBase58(),
      mint: mint.toBase58(),
      destination: destination.toBase58(),
      authority: payer.publicKey.toBase58(),
      tokenAmount: { amount: '1250000', decimals: 6, uiAmount: 1.25, uiAmountString: '1.25' },
    });
    expect(parsed!.transaction.message.accountKeys[0]).toMatchObject({ pubkey: payer.publicKey, signer: true, writable: true });
    // The ATA program's inner calls (createAccount, initializeAccount3, ...) come back parsed too.
    const inner = parsed!.meta!.innerInstructions![0]!.instructions as { program?: string; parsed?: { type: string } }[];
    expect(inner.map((ix) => `${ix.program}:${ix.parsed?.type}`)).toEqual(
      expect.arrayContaining(['spl-token:getAccountDataSize', 'system:createAccount', 'spl-token:initializeImmutableOwner', 'spl-token:initializeAccount3']),
    );

    const [again] = await connection.getParsedTransactions([signature], { maxSupportedTransactionVersion: 0 });
    expect(again?.transaction.signatures[0]).toBe(signature);
    const block = await connection.getParsedBlock(parsed!.slot, { maxSupportedTransactionVersion: 0 });
    expect(block.transactions.map((entry) => entry.transaction.signatures[0])).toContain(signature);
    const multiple = await connection.getMultipleParsedAccounts([mint, destination]);
    expect(multiple.value.map((entry) => (entry?.data as ParsedAccountData).parsed.type)).toEqual(['mint', 'account']);
    const holders = await connection.getParsedProgramAccounts(TOKEN_PROGRAM_ID, {
      filters: [{ dataSize: 165 }, { memcmp: { offset: 0, bytes: mint.toBase58() } }],
    });
    expect(holders.map((entry) => entry.pubkey.toBase58()).sort()).toEqual([source.address.toBase58(), destination.toBase58()].sort());
    expect(ASSOCIATED_TOKEN_PROGRAM_ID.toBase58()).toBe('ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL');
  }, 60_000);

  it('fires onAccountChange, onLogs and onProgramAccountChange on a transfer', async () => {
    const recipient = Keypair.generate().publicKey;
    const ids: { account?: number; logs?: number; program?: number; slot?: number } = {};
    const account = waitFor<AccountInfo<Buffer>>('onAccountChange', (resolve) => (ids.account = connection.onAccountChange(recipient, (info) => resolve(info), 'confirmed')));
    const logs = waitFor<Logs>('onLogs', (resolve) => (ids.logs = connection.onLogs(recipient, (entry) => resolve(entry), 'confirmed')));
    const program = waitFor<KeyedAccountInfo>('onProgramAccountChange', (resolve) => {
      ids.program = connection.onProgramAccountChange(SystemProgram.programId, (keyed) => keyed.accountId.equals(recipient) && resolve(keyed), 'confirmed', [{ dataSize: 0 }]);
    });
    const context = waitFor<Context>('onSlotChange', (resolve) => (ids.slot = connection.onSlotChange((info) => resolve({ slot: info.slot }))));
    try {
      await context; // the socket is up and subscribed before the transfer
      await new Promise((resolve) => setTimeout(resolve, 300));
      const transfer = new Transaction().add(SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: recipient, lamports: LAMPORTS_PER_SOL }));
      const signature = await sendAndConfirmTransaction(connection, transfer, [payer]);
      expect((await account).lamports).toBe(LAMPORTS_PER_SOL);
      expect(await logs).toMatchObject({ signature, err: null, logs: expect.arrayContaining(['Program 11111111111111111111111111111111 success']) });
      expect((await program).accountInfo.lamports).toBe(LAMPORTS_PER_SOL);
    } finally {
      await Promise.all([
        connection.removeAccountChangeListener(ids.account!),
        connection.removeOnLogsListener(ids.logs!),
        connection.removeProgramAccountChangeListener(ids.program!),
        connection.removeSlotChangeListener(ids.slot!),
      ]);
    }
  }, 30_000);

  it('charges a priority-fee transaction exactly the fee it reports, and lists the price in getRecentPrioritizationFees', async () => {
    const recipient = Keypair.generate().publicKey;
    const tx = new Transaction({ feePayer: payer.publicKey, ...(await connection.getLatestBlockhash()) }).add(
      ComputeBudgetProgram.setComputeUnitLimit({ units: 20_000 }),
      ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 250_000 }),
      SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: recipient, lamports: LAMPORTS_PER_SOL }),
    );
    const quoted = await connection.getFeeForMessage(tx.compileMessage());
    const before = await connection.getBalance(payer.publicKey);
    const signature = await sendAndConfirmTransaction(connection, tx, [payer]);
    const after = await connection.getBalance(payer.publicKey);
    const fetched = await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0, commitment: 'confirmed' });
    expect(fetched!.meta!.fee).toBe(5000 + 5000); // 250,000 µlamports × 20,000 units = 5,000 lamports
    expect(before - after - LAMPORTS_PER_SOL).toBe(fetched!.meta!.fee);
    expect(quoted.value).toBe(fetched!.meta!.fee);
    const fees = await connection.getRecentPrioritizationFees({ lockedWritableAccounts: [payer.publicKey] });
    expect(fees.find((entry) => entry.slot === fetched!.slot)?.prioritizationFee).toBe(250_000);
  }, 30_000);

  it('reads jsonParsed accounts with @solana/kit', async () => {
    const rpc = createSolanaRpc(network.rpcUrl);
    const mint = await createMint(connection, payer, payer.publicKey, payer.publicKey, 2);
    const { value } = await rpc.getAccountInfo(address(mint.toBase58()), { encoding: 'jsonParsed' }).send();
    expect(value?.data).toMatchObject({ program: 'spl-token', parsed: { type: 'mint', info: { decimals: 2, freezeAuthority: payer.publicKey.toBase58() } } });
    const owned = await rpc.getTokenAccountsByOwner(address(payer.publicKey.toBase58()), { programId: address(TOKEN_PROGRAM_ID.toBase58()) }, { encoding: 'jsonParsed' }).send();
    expect(owned.value.length).toBeGreaterThan(0);
    expect(owned.value[0]!.account.data.parsed.info.owner).toBe(payer.publicKey.toBase58());
  }, 30_000);

  it('survives a restart in the middle of a signing flow; then kit confirms at `finalized` in realistic mode', async () => {
    const recipient = Keypair.generate().publicKey;
    const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash();
    const tx = new Transaction({ feePayer: payer.publicKey, blockhash, lastValidBlockHeight }).add(
      SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: recipient, lamports: LAMPORTS_PER_SOL }),
    );
    tx.sign(payer); // signed before the restart, sent after it
    const slotBefore = await connection.getSlot('processed');
    await down();

    network = await up(['--commitment', 'realistic']);
    connection = new Connection(network.rpcUrl, { commitment: 'confirmed', wsEndpoint: network.wsUrl });
    const slotAfter = await connection.getSlot('processed');
    expect(slotAfter).toBeGreaterThan(slotBefore);
    const signature = await connection.sendRawTransaction(tx.serialize());
    await connection.confirmTransaction({ signature, blockhash, lastValidBlockHeight }, 'confirmed');
    expect(await connection.getBalance(recipient)).toBe(LAMPORTS_PER_SOL);

    const rpc = createSolanaRpc(network.rpcUrl);
    const rpcSubscriptions = createSolanaRpcSubscriptions(network.wsUrl);
    const signer = await createKeyPairSignerFromBytes(payer.secretKey);
    const { value: latest } = await rpc.getLatestBlockhash({ commitment: 'finalized' }).send();
    const data = new Uint8Array(12);
    new DataView(data.buffer).setUint32(0, 2, true);
    new DataView(data.buffer).setBigUint64(4, 1_000_000n, true);
    const message = pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayerSigner(signer, m),
      (m) => setTransactionMessageLifetimeUsingBlockhash(latest, m),
      (m) =>
        appendTransactionMessageInstruction(
          {
            programAddress: address('11111111111111111111111111111111'),
            accounts: [
              { address: signer.address, role: AccountRole.WRITABLE_SIGNER, signer },
              { address: address(recipient.toBase58()), role: AccountRole.WRITABLE },
            ],
            data,
          },
          m,
        ),
    );
    const signed = await signTransactionMessageWithSigners(message);
    const kitSignature = getSignatureFromTransaction(signed) as Signature;
    const statuses: string[] = [];
    const watch = setInterval(() => {
      void rpc
        .getSignatureStatuses([kitSignature])
        .send()
        .then(({ value }) => value[0] && statuses.push(value[0].confirmationStatus ?? 'none'));
    }, 300);
    const started = Date.now();
    try {
      await sendAndConfirmTransactionFactory({ rpc, rpcSubscriptions })(signed as Parameters<ReturnType<typeof sendAndConfirmTransactionFactory>>[0], { commitment: 'finalized' });
    } finally {
      clearInterval(watch);
    }
    const waited = Date.now() - started;
    // Finalized 32 slots (of 400 ms) after landing, and seen as confirmed on the way.
    expect(waited).toBeGreaterThan(31 * 400);
    expect(statuses).toContain('confirmed');
    const { value } = await rpc.getSignatureStatuses([kitSignature]).send();
    expect(value[0]?.confirmationStatus).toBe('finalized');
    expect(await connection.getBalance(recipient)).toBe(LAMPORTS_PER_SOL + 1_000_000);
    await down();
  }, 120_000);
});
