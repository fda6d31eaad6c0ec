// The local chain's WebSocket subscriptions, simulateTransaction extras and realistic commitment, with web3.js.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Connection, Keypair, LAMPORTS_PER_SOL, SystemProgram, Transaction, sendAndConfirmTransaction } from '@solana/web3.js';
import { createAssociatedTokenAccountInstruction, createMint, getAssociatedTokenAddressSync } from '@solana/spl-token';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startLocalChain } from '../../src/chain/local-chain.js';
import type { LocalChain } from '../../src/chain/local-chain.js';
import { startFundedChain, trackChains } from '../support/chain.js';

async function rpc(url: string, method: string, params: unknown[]): Promise<{ result?: any; error?: { code: number; message: string } }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  return (await response.json()) as never;
}

/** A raw WebSocket JSON-RPC client: every message, in order. */
async function openSocket(url: string): Promise<{ call(method: string, params?: unknown[]): Promise<any>; messages: any[]; close(): void }> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const messages: any[] = [];
  const waiting = new Map<number, (message: any) => void>();
  let nextId = 1;
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString());
    messages.push(message);
    if (message.id !== undefined) waiting.get(message.id)?.(message);
  });
  return {
    messages,
    call: (method, params = []) =>
      new Promise((resolve) => {
        const id = nextId++;
        waiting.set(id, resolve);
        ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      }),
    close: () => ws.close(),
  };
}

describe('local chain subscriptions and simulation', () => {
  let chain: LocalChain;
  let connection: Connection;
  let payer: Keypair;

  beforeAll(async () => {
    ({ chain, connection, payer } = await startFundedChain({ port: 0 }, 10));
  });
  afterAll(async () => {
    await chain?.close();
  });

  it('answers root and account subscriptions, and refuses a foreign or unknown subscription id', async () => {
    const socket = await openSocket(chain.wsUrl);
    try {
      const root = await socket.call('rootSubscribe');
      expect(root.result).toBeTypeOf('number');
      const watched = Keypair.generate().publicKey;
      const account = await socket.call('accountSubscribe', [watched.toBase58(), { encoding: 'jsonParsed', commitment: 'confirmed' }]);
      await sendAndConfirmTransaction(connection, new Transaction().add(SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: watched, lamports: LAMPORTS_PER_SOL })), [payer]);
      await vi.waitFor(() => expect(socket.messages.some((m) => m.method === 'rootNotification')).toBe(true), { timeout: 3000 });
      const note = socket.messages.find((m) => m.method === 'accountNotification');
      expect(note.params).toMatchObject({ subscription: account.result, result: { value: { lamports: LAMPORTS_PER_SOL, owner: '11111111111111111111111111111111' } } });
      expect((await socket.call('slotUnsubscribe', [account.result])).error).toMatchObject({ code: -32602, message: 'Invalid subscription id.' });
      expect((await socket.call('accountUnsubscribe', [account.result])).result).toBe(true);
      expect((await socket.call('accountUnsubscribe', [account.result])).error?.code).toBe(-32602);
    } finally {
      socket.close();
    }
  });

  it('keeps web3.js from retrying an unknown subscription in a tight loop', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const own = new Connection(chain.rpcUrl, { commitment: 'confirmed', wsEndpoint: chain.wsUrl });
    // web3.js has no public call for blockSubscribe; its internal subscribe path is what onAccountChange & co. use.
    const id = (own as any)._makeSubscription({ callback: () => undefined, method: 'blockSubscribe', unsubscribeMethod: 'blockUnsubscribe' }, ['all']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const attempts = errors.mock.calls.filter((call) => String(call[0]).includes('blockSubscribe')).length;
      // Without the back-off this is thousands; with it: at 0, 0.25, 0.75, 1.75 s …
      expect(attempts).toBeGreaterThanOrEqual(2);
      expect(attempts).toBeLessThanOrEqual(6);
    } finally {
      await (own as any)._unsubscribeClientSubscription(id, 'block');
      errors.mockRestore();
    }
  });

  it('simulates with post-transaction accounts, parsed inner instructions and a replacement blockhash', async () => {
    const mint = await createMint(connection, payer, payer.publicKey, null, 6);
    const owner = Keypair.generate().publicKey;
    const ata = getAssociatedTokenAddressSync(mint, owner);
    const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: Keypair.generate().publicKey.toBase58() });
    tx.add(createAssociatedTokenAccountInstruction(payer.publicKey, ata, owner, mint));
    tx.sign(payer);
    const wire = tx.serialize().toString('base64');
    const { result } = await rpc(chain.rpcUrl, 'simulateTransaction', [
      wire,
      { encoding: 'base64', replaceRecentBlockhash: true, innerInstructions: true, accounts: { addresses: [ata.toBase58(), payer.publicKey.toBase58()], encoding: 'jsonParsed' } },
    ]);
    expect(result.value.err).toBeNull();
    expect(result.value.replacementBlockhash).toMatchObject({ blockhash: expect.any(String), lastValidBlockHeight: expect.any(Number) });
    expect(result.value.accounts[0].data).toMatchObject({ program: 'spl-token', parsed: { type: 'account', info: { owner: owner.toBase58(), mint: mint.toBase58() } } });
    expect(result.value.accounts[1].lamports).toBeLessThan(await connection.getBalance(payer.publicKey));
    expect(result.value.innerInstructions[0].instructions.map((ix: any) => ix.parsed?.type)).toContain('initializeAccount3');
    // Nothing was applied.
    expect(await connection.getAccountInfo(ata)).toBeNull();
  });
});

describe('local chain realistic commitment and restarts', () => {
  const { chains, tempDir, cleanup } = trackChains();
  afterEach(cleanup);

  it('goes processed → confirmed → finalized 32 slots later, and web3.js waits for finalized', async () => {
    // Slots move only when the test moves them, so each stage is observed without racing the clock.
    const chain = await startLocalChain({ port: 0, commitment: 'realistic', slotMs: 3_600_000 });
    chains.push(chain);
    const connection = new Connection(chain.rpcUrl, { commitment: 'confirmed', wsEndpoint: chain.wsUrl });
    const payer = Keypair.generate();
    const airdrop = await connection.requestAirdrop(payer.publicKey, LAMPORTS_PER_SOL);
    expect((await connection.getSignatureStatus(airdrop)).value).toMatchObject({ confirmationStatus: 'processed', confirmations: 0 });
    expect(await connection.getTransaction(airdrop, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 })).toBeNull();
    chain.advanceSlots(1);
    expect((await connection.getSignatureStatus(airdrop)).value).toMatchObject({ confirmationStatus: 'confirmed', confirmations: 1 });
    expect(await connection.getTransaction(airdrop, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 })).not.toBeNull();
    expect(await connection.getTransaction(airdrop, { commitment: 'finalized', maxSupportedTransactionVersion: 0 })).toBeNull();

    let finalized = false;
    const confirming = connection
      .confirmTransaction({ signature: airdrop, ...(await connection.getLatestBlockhash()) }, 'finalized')
      .then(() => (finalized = true));
    let moved = 0;
    while (!finalized && moved < 100) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      chain.advanceSlots(1);
      moved++;
    }
    await confirming;
    const status = (await connection.getSignatureStatus(airdrop)).value!;
    expect(status).toMatchObject({ confirmationStatus: 'finalized', confirmations: null });
    // Notified when 32 slots sat on top of it (the loop may move a slot or two more before it sees the flag).
    expect(chain.slot() - status.slot).toBeGreaterThanOrEqual(32);
    expect(chain.slot() - status.slot).toBeLessThanOrEqual(34);
    expect((await connection.getSlot('processed')) - (await connection.getSlot('finalized'))).toBe(32);
  });

  it('resumes after the last slot it reached, keeping earlier blockhashes valid', async () => {
    const dataDir = await tempDir();
    const { chain: first, connection, payer } = await startFundedChain({ dataDir }, 1);
    chains.push(first);
    first.advanceSlots(100); // slots with no transactions: a restart must not reuse them
    // Were the process killed now, the slot file already holds a slot at or past the clock.
    const saved = JSON.parse(await readFile(join(dataDir, 'slot.json'), 'utf8')) as { slot: number };
    expect(saved.slot).toBeGreaterThanOrEqual(first.slot());
    const { blockhash } = await connection.getLatestBlockhash();
    const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: blockhash }).add(
      SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: Keypair.generate().publicKey, lamports: LAMPORTS_PER_SOL / 2 }),
    );
    tx.sign(payer);
    const lastSlot = first.slot();
    await first.close();
    chains.splice(0);

    const second = await startLocalChain({ dataDir });
    chains.push(second);
    expect(second.slot()).toBe(lastSlot + 1);
    const again = new Connection(second.rpcUrl, { commitment: 'confirmed', wsEndpoint: second.wsUrl });
    expect((await again.isBlockhashValid(blockhash)).value).toBe(true);
    const signature = await again.sendRawTransaction(tx.serialize());
    expect((await again.getSignatureStatus(signature)).value?.err).toBeNull();
  });
});
