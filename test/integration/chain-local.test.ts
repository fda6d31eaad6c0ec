// The local chain against an unmodified web3.js Connection and spl-token: transfers, tokens, errors, restart.
import {
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  SendTransactionError,
  SystemProgram,
  Transaction,
  sendAndConfirmTransaction,
} from '@solana/web3.js';
import { createMint, getAccount, getOrCreateAssociatedTokenAccount, mintTo, transferChecked } from '@solana/spl-token';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalChain } from '../../src/chain/local-chain.js';
import type { LocalChain } from '../../src/chain/local-chain.js';
import { startFundedChain, trackChains } from '../support/chain.js';

async function rawRpc(url: string, method: string, params: unknown[]): Promise<{ result?: unknown; error?: { code: number; message: string; data?: unknown } }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 'x1', method, params }) });
  return (await response.json()) as never;
}

describe('local chain', () => {
  let chain: LocalChain;
  let connection: Connection;
  let payer: Keypair;

  beforeAll(async () => {
    ({ chain, connection, payer } = await startFundedChain({ port: 0 }, 10));
  });
  afterAll(async () => {
    await chain?.close();
  });

  it('airdrops and sends a SOL transfer with sendAndConfirmTransaction', async () => {
    expect(await connection.getBalance(payer.publicKey)).toBe(10 * LAMPORTS_PER_SOL);
    const to = Keypair.generate().publicKey;
    const tx = new Transaction().add(SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: to, lamports: LAMPORTS_PER_SOL }));
    const signature = await sendAndConfirmTransaction(connection, tx, [payer]);
    expect(await connection.getBalance(to)).toBe(LAMPORTS_PER_SOL);
    const fetched = await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0 });
    expect(fetched?.meta?.err).toBeNull();
    expect(fetched?.meta?.fee).toBe(5000);
    expect(fetched?.meta?.postBalances[1]).toBe(LAMPORTS_PER_SOL);
    expect(fetched?.meta?.preBalances[0]! - fetched!.meta!.postBalances[0]!).toBe(LAMPORTS_PER_SOL + 5000);
    const statuses = await connection.getSignatureStatuses([signature], { searchTransactionHistory: true });
    expect(statuses.value[0]?.confirmationStatus).toBe('finalized');
    const history = await connection.getSignaturesForAddress(to);
    expect(history.map((entry) => entry.signature)).toEqual([signature]);
  });

  it('runs spl-token: createMint, getOrCreateAssociatedTokenAccount, mintTo, transferChecked', async () => {
    const mint = await createMint(connection, payer, payer.publicKey, null, 6);
    const source = await getOrCreateAssociatedTokenAccount(connection, payer, mint, payer.publicKey);
    await mintTo(connection, payer, mint, source.address, payer, 5_000_000n);
    const other = Keypair.generate();
    const destination = await getOrCreateAssociatedTokenAccount(connection, payer, mint, other.publicKey);
    const signature = await transferChecked(connection, payer, source.address, mint, destination.address, payer, 1_250_000n, 6);
    expect((await getAccount(connection, destination.address)).amount).toBe(1_250_000n);
    expect((await connection.getTokenAccountBalance(source.address)).value.uiAmountString).toBe('3.75');
    const byOwner = await connection.getTokenAccountsByOwner(other.publicKey, { mint });
    expect(byOwner.value.map((entry) => entry.pubkey.toBase58())).toEqual([destination.address.toBase58()]);
    const fetched = await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0 });
    const post = fetched?.meta?.postTokenBalances?.find((balance) => balance.owner === other.publicKey.toBase58());
    expect(post?.uiTokenAmount.amount).toBe('1250000');
    expect(post?.mint).toBe(mint.toBase58());
    const raw = await rawRpc(chain.rpcUrl, 'getTransaction', [signature, { encoding: 'base64' }]);
    expect((raw.result as { transaction: [string, string] }).transaction[1]).toBe('base64');
  });

  it('reports preflight failures with logs, duplicates as already processed, bad signatures as -32003', async () => {
    const poor = Keypair.generate();
    await connection.confirmTransaction({ signature: await connection.requestAirdrop(poor.publicKey, LAMPORTS_PER_SOL), ...(await connection.getLatestBlockhash()) });
    const tx = new Transaction().add(SystemProgram.transfer({ fromPubkey: poor.publicKey, toPubkey: payer.publicKey, lamports: 5 * LAMPORTS_PER_SOL }));
    const error = await sendAndConfirmTransaction(connection, tx, [poor]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendTransactionError);
    expect((error as SendTransactionError).message).toMatch(/custom program error: 0x1/);
    expect((await (error as SendTransactionError).getLogs(connection)).join('\n')).toMatch(/insufficient lamports/);

    const ok = new Transaction().add(SystemProgram.transfer({ fromPubkey: poor.publicKey, toPubkey: payer.publicKey, lamports: 1000 }));
    await sendAndConfirmTransaction(connection, ok, [poor]);
    await expect(connection.sendRawTransaction(ok.serialize())).rejects.toThrow(/already been processed/);
    expect(await connection.sendRawTransaction(ok.serialize(), { skipPreflight: true })).toBe(ok.signature ? (await import('bs58')).default.encode(ok.signature) : '');

    const forged = new Transaction({ feePayer: poor.publicKey, ...(await connection.getLatestBlockhash()) });
    forged.add(SystemProgram.transfer({ fromPubkey: poor.publicKey, toPubkey: payer.publicKey, lamports: 77 }));
    forged.sign(poor);
    const bytes = forged.serialize();
    bytes[bytes.length - 1] ^= 1; // change the lamports after signing
    const bad = await rawRpc(chain.rpcUrl, 'sendTransaction', [Buffer.from(bytes).toString('base64'), { encoding: 'base64' }]);
    expect(bad.error?.code).toBe(-32003);
  });

  it('rejects garbage bytes with a JSON-RPC error and keeps serving', async () => {
    for (const bytes of [Buffer.from('not a transaction'), Buffer.alloc(300, 7), Buffer.alloc(0)]) {
      const response = await rawRpc(chain.rpcUrl, 'sendTransaction', [bytes.toString('base64'), { encoding: 'base64' }]);
      expect(response.error?.code).toBe(-32602);
    }
    const sim = await rawRpc(chain.rpcUrl, 'simulateTransaction', [Buffer.alloc(64, 1).toString('base64'), { encoding: 'base64' }]);
    expect(sim.error?.code).toBe(-32602);
    const unknown = await rawRpc(chain.rpcUrl, 'noSuchMethod', []);
    expect(unknown).toMatchObject({ error: { code: -32601 }, id: 'x1' });
    expect(await connection.getSlot()).toBeGreaterThan(0);
  });

  it('answers the informational methods web3.js uses', async () => {
    expect(await connection.getGenesisHash()).toBe(chain.genesisHash);
    expect((await connection.getVersion())['solana-core']).toBeTypeOf('string');
    expect((await connection.getEpochInfo()).slotsInEpoch).toBe(432_000);
    expect(await connection.getMinimumBalanceForRentExemption(165)).toBe(2_039_280);
    expect(await connection.getBlockHeight()).toBeGreaterThan(0);
    const infos = await connection.getMultipleAccountsInfo([payer.publicKey, Keypair.generate().publicKey]);
    expect(infos[0]?.owner.equals(SystemProgram.programId)).toBe(true);
    expect(infos[1]).toBeNull();
    const tx = new Transaction({ feePayer: payer.publicKey, ...(await connection.getLatestBlockhash()) });
    tx.add(SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: new PublicKey(chain.faucet), lamports: 1 }));
    expect(await connection.getFeeForMessage(tx.compileMessage())).toMatchObject({ value: 5000 });
    const simulated = await connection.simulateTransaction(tx);
    expect(simulated.value.err).toBeNull();
    expect(simulated.value.logs?.length).toBeGreaterThan(0);
  });
});

describe('local chain blockhash expiry', () => {
  it('rejects an unknown or expired blockhash with BlockhashNotFound', async () => {
    // A chain of its own: jumping slots would stale the blockhash web3.js caches for the other tests.
    const { chain: own, connection, payer } = await startFundedChain({ port: 0 }, 10);
    try {
      const make = (blockhash: string) => {
        const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: blockhash });
        tx.add(SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: Keypair.generate().publicKey, lamports: LAMPORTS_PER_SOL }));
        tx.sign(payer);
        return tx.serialize();
      };
      await expect(connection.sendRawTransaction(make(Keypair.generate().publicKey.toBase58()))).rejects.toThrow(/Blockhash not found/);
      const { blockhash } = await connection.getLatestBlockhash();
      const stale = make(blockhash);
      own.advanceSlots(151);
      expect(await connection.isBlockhashValid(blockhash)).toMatchObject({ value: false });
      const error = await connection.sendRawTransaction(stale).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SendTransactionError);
      expect(JSON.stringify((error as SendTransactionError).transactionError)).toMatch(/BlockhashNotFound|Blockhash not found/);
      // Without preflight a validator accepts the signature and silently drops the transaction.
      const signature = await connection.sendRawTransaction(stale, { skipPreflight: true });
      expect((await connection.getSignatureStatus(signature)).value).toBeNull();
    } finally {
      await own.close();
    }
  });

});

describe('local chain persistence', () => {
  const { chains, tempDir, cleanup } = trackChains();
  afterEach(cleanup);

  it('keeps balances and history across a restart on the same dataDir', async () => {
    const dataDir = await tempDir();
    const { chain: first, connection, payer } = await startFundedChain({ dataDir }, 2);
    chains.push(first);
    const mint = await createMint(connection, payer, payer.publicKey, null, 6);
    const ata = await getOrCreateAssociatedTokenAccount(connection, payer, mint, payer.publicKey);
    const mintSignature = await mintTo(connection, payer, mint, ata.address, payer, 42n);
    const balance = await connection.getBalance(payer.publicKey);
    const genesisHash = first.genesisHash;
    await first.close();

    const second = await startLocalChain({ dataDir });
    chains.push(second);
    const again = new Connection(second.rpcUrl, { commitment: 'confirmed', wsEndpoint: second.wsUrl });
    expect(second.genesisHash).toBe(genesisHash);
    expect(await again.getBalance(payer.publicKey)).toBe(balance);
    expect((await getAccount(again, ata.address)).amount).toBe(42n);
    expect((await again.getTransaction(mintSignature, { maxSupportedTransactionVersion: 0 }))?.meta?.err).toBeNull();
    // and it keeps going
    await mintTo(again, payer, mint, ata.address, payer, 8n);
    expect((await getAccount(again, ata.address)).amount).toBe(50n);
  });
});
