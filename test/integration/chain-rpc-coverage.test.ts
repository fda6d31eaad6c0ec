// Every HTTP method of the Solana JSON-RPC spec, called against the local chain: none may answer "Method not found",
// and each answer has the spec's shape. A second part checks CORS and the bigint-exact supply.
import { Connection, Keypair, LAMPORTS_PER_SOL, SystemProgram, Transaction } from '@solana/web3.js';
import { approve, createMint, getOrCreateAssociatedTokenAccount, mintTo } from '@solana/spl-token';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalChain } from '../../src/chain/local-chain.js';
import type { LocalChain } from '../../src/chain/local-chain.js';

// The HTTP methods listed at https://solana.com/docs/rpc/http (the spec's method reference; 52 methods), which are
// also the methods agave's rpc.rs serves in its full API (minus deprecated ones).
const SPEC_HTTP_METHODS = [
  'getAccountInfo', 'getBalance', 'getBlock', 'getBlockCommitment', 'getBlockHeight', 'getBlockProduction', 'getBlockTime',
  'getBlocks', 'getBlocksWithLimit', 'getClusterNodes', 'getEpochInfo', 'getEpochSchedule', 'getFeeForMessage',
  'getFirstAvailableBlock', 'getGenesisHash', 'getHealth', 'getHighestSnapshotSlot', 'getIdentity', 'getInflationGovernor',
  'getInflationRate', 'getInflationReward', 'getLargestAccounts', 'getLatestBlockhash', 'getLeaderSchedule',
  'getMaxRetransmitSlot', 'getMaxShredInsertSlot', 'getMinimumBalanceForRentExemption', 'getMultipleAccounts',
  'getProgramAccounts', 'getRecentPerformanceSamples', 'getRecentPrioritizationFees', 'getSignatureStatuses',
  'getSignaturesForAddress', 'getSlot', 'getSlotLeader', 'getSlotLeaders', 'getStakeMinimumDelegation', 'getSupply',
  'getTokenAccountBalance', 'getTokenAccountsByDelegate', 'getTokenAccountsByOwner', 'getTokenLargestAccounts',
  'getTokenSupply', 'getTransaction', 'getTransactionCount', 'getVersion', 'getVoteAccounts', 'isBlockhashValid',
  'minimumLedgerSlot', 'requestAirdrop', 'sendTransaction', 'simulateTransaction',
];

interface RpcAnswer {
  result?: unknown;
  error?: { code: number; message: string };
}

async function rpc(url: string, method: string, params: unknown[] = [], headers: Record<string, string> = {}): Promise<RpcAnswer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  return (await response.json()) as RpcAnswer;
}

describe('local chain: every JSON-RPC HTTP method of the spec', () => {
  let chain: LocalChain;
  let connection: Connection;
  const fixtures: Record<string, unknown> = {};

  beforeAll(async () => {
    chain = await startLocalChain({ port: 0 });
    connection = new Connection(chain.rpcUrl, { commitment: 'confirmed', wsEndpoint: chain.wsUrl });
    const payer = Keypair.generate();
    await connection.confirmTransaction({ signature: await connection.requestAirdrop(payer.publicKey, 10 * LAMPORTS_PER_SOL), ...(await connection.getLatestBlockhash()) });
    const mint = await createMint(connection, payer, payer.publicKey, null, 6);
    const ata = await getOrCreateAssociatedTokenAccount(connection, payer, mint, payer.publicKey);
    const mintSignature = await mintTo(connection, payer, mint, ata.address, payer, 7_000_000n);
    const delegate = Keypair.generate();
    await approve(connection, payer, ata.address, delegate.publicKey, payer, 1_000_000n);
    const { blockhash } = await connection.getLatestBlockhash();
    const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: blockhash }).add(
      SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: Keypair.generate().publicKey, lamports: LAMPORTS_PER_SOL }),
    );
    tx.sign(payer);
    Object.assign(fixtures, {
      payer: payer.publicKey.toBase58(),
      mint: mint.toBase58(),
      ata: ata.address.toBase58(),
      delegate: delegate.publicKey.toBase58(),
      wire: tx.serialize().toString('base64'),
      message: tx.serializeMessage().toString('base64'),
      blockhash,
      mintSignature,
    });
  });
  afterAll(async () => {
    await chain?.close();
  });

  it('answers each method with the spec shape, never "Method not found"', async () => {
    const f = fixtures as Record<string, string>;
    const slot = await connection.getSlot();
    const signature = f.mintSignature!;
    const txSlot = (await connection.getSignatureStatus(signature)).value!.slot;
    const calls: Record<string, [unknown[], (result: any) => void]> = {
      getAccountInfo: [[f.payer, { encoding: 'base64' }], (r) => expect(r.value.owner).toBe('11111111111111111111111111111111')],
      getBalance: [[f.payer], (r) => expect(r.value).toBeGreaterThan(0)],
      getBlock: [[txSlot, { maxSupportedTransactionVersion: 0 }], (r) => {
        expect(r).toMatchObject({ blockHeight: txSlot, parentSlot: txSlot - 1, blockhash: expect.any(String), previousBlockhash: expect.any(String), rewards: [] });
        expect(r.transactions.map((t: any) => t.transaction.signatures[0])).toContain(signature);
      }],
      getBlockCommitment: [[slot], (r) => expect(r).toHaveProperty('totalStake')],
      getBlockHeight: [[], (r) => expect(r).toBeGreaterThanOrEqual(slot)],
      getBlockProduction: [[], (r) => expect(Object.values(r.value.byIdentity)[0]).toEqual([expect.any(Number), expect.any(Number)])],
      getBlockTime: [[txSlot], (r) => expect(Math.abs(r - Date.now() / 1000)).toBeLessThan(60)],
      getBlocks: [[Math.max(0, slot - 5), slot], (r) => expect(r).toEqual([0, 1, 2, 3, 4, 5].map((i) => Math.max(0, slot - 5) + i).filter((s) => s <= slot))],
      getBlocksWithLimit: [[txSlot, 1], (r) => expect(r).toEqual([txSlot])],
      getClusterNodes: [[], (r) => expect(r[0]).toMatchObject({ pubkey: expect.any(String), rpc: chain.rpcUrl.replace('http://', '') })],
      getEpochInfo: [[], (r) => expect(r).toMatchObject({ epoch: 0, slotsInEpoch: 432_000 })],
      getEpochSchedule: [[], (r) => expect(r).toMatchObject({ slotsPerEpoch: 432_000, warmup: false })],
      getFeeForMessage: [[f.message], (r) => expect(r.value).toBe(5000)],
      getFirstAvailableBlock: [[], (r) => expect(r).toBe(0)],
      getGenesisHash: [[], (r) => expect(r).toBe(chain.genesisHash)],
      getHealth: [[], (r) => expect(r).toBe('ok')],
      getHighestSnapshotSlot: [[], (r) => expect(r).toMatchObject({ full: expect.any(Number), incremental: null })],
      getIdentity: [[], (r) => expect(r.identity).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/)],
      getInflationGovernor: [[], (r) => expect(r).toMatchObject({ initial: 0, terminal: 0 })],
      getInflationRate: [[], (r) => expect(r).toMatchObject({ total: 0, epoch: 0 })],
      getInflationReward: [[[f.payer]], (r) => expect(r).toEqual([null])],
      getLargestAccounts: [[], (r) => expect(r.value[0]).toMatchObject({ address: chain.faucet, lamports: expect.any(Number) })],
      getLatestBlockhash: [[], (r) => expect(r.value).toMatchObject({ blockhash: expect.any(String), lastValidBlockHeight: expect.any(Number) })],
      getLeaderSchedule: [[], (r) => expect(Object.values(r)[0]).toHaveLength(432_000)],
      getMaxRetransmitSlot: [[], (r) => expect(r).toBeGreaterThanOrEqual(slot)],
      getMaxShredInsertSlot: [[], (r) => expect(r).toBeGreaterThanOrEqual(slot)],
      getMinimumBalanceForRentExemption: [[0], (r) => expect(r).toBe(890_880)],
      getMultipleAccounts: [[[f.payer, f.mint]], (r) => expect(r.value).toHaveLength(2)],
      getProgramAccounts: [['TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA', { filters: [{ dataSize: 82 }] }], (r) => expect(r.map((a: any) => a.pubkey)).toEqual([f.mint])],
      getRecentPerformanceSamples: [[1], (r) => expect(r[0]).toMatchObject({ numSlots: expect.any(Number), samplePeriodSecs: 60 })],
      getRecentPrioritizationFees: [[], (r) => expect(r.length).toBeGreaterThan(0)],
      getSignatureStatuses: [[[signature]], (r) => expect(r.value[0]).toMatchObject({ confirmationStatus: 'finalized', err: null })],
      getSignaturesForAddress: [[f.payer], (r) => expect(r.length).toBeGreaterThan(3)],
      getSlot: [[], (r) => expect(r).toBeGreaterThanOrEqual(slot)],
      getSlotLeader: [[], (r) => expect(r).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/)],
      getSlotLeaders: [[slot, 3], (r) => expect(r).toHaveLength(3)],
      getStakeMinimumDelegation: [[], (r) => expect(r.value).toBeTypeOf('number')],
      getSupply: [[], (r) => expect(r.value).toMatchObject({ total: expect.any(Number), circulating: expect.any(Number), nonCirculatingAccounts: [] })],
      getTokenAccountBalance: [[f.ata], (r) => expect(r.value.amount).toBe('7000000')],
      getTokenAccountsByDelegate: [[f.delegate, { mint: f.mint }], (r) => expect(r.value.map((a: any) => a.pubkey)).toEqual([f.ata])],
      getTokenAccountsByOwner: [[f.payer, { mint: f.mint }], (r) => expect(r.value.map((a: any) => a.pubkey)).toEqual([f.ata])],
      getTokenLargestAccounts: [[f.mint], (r) => expect(r.value).toEqual([{ address: f.ata, amount: '7000000', decimals: 6, uiAmount: 7, uiAmountString: '7' }])],
      getTokenSupply: [[f.mint], (r) => expect(r.value).toMatchObject({ amount: '7000000', decimals: 6, uiAmountString: '7' })],
      getTransaction: [[signature, { maxSupportedTransactionVersion: 0 }], (r) => expect(r.meta.err).toBeNull()],
      getTransactionCount: [[], (r) => expect(r).toBeGreaterThan(3)],
      getVersion: [[], (r) => expect(r['solana-core']).toBeTypeOf('string')],
      getVoteAccounts: [[], (r) => expect(r.current[0]).toMatchObject({ nodePubkey: expect.any(String), epochVoteAccount: true })],
      isBlockhashValid: [[f.blockhash], (r) => expect(r.value).toBe(true)],
      minimumLedgerSlot: [[], (r) => expect(r).toBe(0)],
      requestAirdrop: [[Keypair.generate().publicKey.toBase58(), 1_000_000_000], (r) => expect(r).toBeTypeOf('string')],
      simulateTransaction: [[f.wire, { encoding: 'base64' }], (r) => expect(r.value.err).toBeNull()],
      sendTransaction: [[f.wire, { encoding: 'base64' }], (r) => expect(r).toBeTypeOf('string')],
    };
    expect(Object.keys(calls).sort()).toEqual([...SPEC_HTTP_METHODS].sort());
    const failures: string[] = [];
    for (const method of SPEC_HTTP_METHODS) {
      const [params, check] = calls[method]!;
      const answer = await rpc(chain.rpcUrl, method, params);
      if (answer.error) {
        failures.push(`${method}: ${answer.error.code} ${answer.error.message}`);
        continue;
      }
      try {
        check(answer.result);
      } catch (error) {
        failures.push(`${method}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('reports an unknown method as -32601 and a future block as not available', async () => {
    expect((await rpc(chain.rpcUrl, 'getStakeActivation', [])).error?.code).toBe(-32601);
    const future = (await connection.getSlot()) + 1000;
    expect((await rpc(chain.rpcUrl, 'getBlockTime', [future])).error).toMatchObject({ code: -32004, message: `Block not available for slot ${future}` });
    expect((await rpc(chain.rpcUrl, 'getBlock', [future])).error?.code).toBe(-32004);
  });

  it('writes the lamport supply as an exact u64', async () => {
    const response = await fetch(chain.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getSupply', params: [] }) });
    const text = await response.text();
    const total = /"total":(\d+)/.exec(text)![1]!;
    expect(total.length).toBeGreaterThan(16);
    const fees = BigInt(10n ** 18n) - BigInt(total);
    expect(fees % 5000n).toBe(0n);
    expect(fees).toBeGreaterThan(0n);
  });

  it('allows browser pages from loopback origins only (CORS)', async () => {
    const preflight = (origin: string) =>
      fetch(chain.rpcUrl, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,solana-client' } });
    const local = await preflight('http://localhost:3000');
    expect(local.status).toBe(204);
    expect(local.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(local.headers.get('access-control-allow-headers')).toBe('content-type,solana-client');
    const remote = await preflight('https://evil.example');
    expect(remote.status).toBe(403);
    expect(remote.headers.get('access-control-allow-origin')).toBeNull();
    const post = await fetch(chain.rpcUrl, { method: 'POST', headers: { origin: 'http://127.0.0.1:5173', 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getHealth' }) });
    expect(post.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:5173');
    const foreign = await fetch(chain.rpcUrl, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getHealth' }) });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    // WebSockets get no preflight: a foreign origin is refused at the upgrade.
    const { WebSocket } = await import('ws');
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(chain.wsUrl, { origin: 'https://evil.example' });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(403);
  });
});
