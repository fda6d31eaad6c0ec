// Transfers per second through the local chain's JSON-RPC facade (SOL transfers, and token transferChecked + memo payments).
// Run after `npm run build`: node bench/chain-transfers.mjs [count]
// Client and chain share one Node process (as in tests), so the figure includes both sides' CPU on one thread;
// transactions are signed before the clock starts (signing is the client's cost, not the chain's).
import { Connection, Keypair, LAMPORTS_PER_SOL, PublicKey, SystemProgram, Transaction } from '@solana/web3.js';
import { startLocalChain } from '../dist/src/chain/local-chain.js';
import { bootstrapLocalNetwork, fundFromFaucet } from '../dist/src/chain/bootstrap.js';
import { generateKeypair } from '../dist/src/wallet/keypair.js';
import { buildLeasePayment, signTransaction } from '../dist/src/wallet/payment.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const count = Number(process.argv[2] ?? 2000);
const concurrency = 16;

/** send(wire) → signature; either web3.js's Connection or a bare fetch JSON-RPC call. */
async function sendAll(connection, wires, send = (wire) => connection.sendRawTransaction(wire)) {
  const started = performance.now();
  let next = 0;
  const signatures = new Array(wires.length);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < wires.length) {
        const index = next++;
        signatures[index] = await send(wires[index]);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  let landed = 0;
  for (let i = 0; i < signatures.length; i += 256) {
    const { value } = await connection.getSignatureStatuses(signatures.slice(i, i + 256));
    landed += value.filter((status) => status && status.err === null).length;
  }
  if (landed !== wires.length) throw new Error(`only ${landed}/${wires.length} landed`);
  return wires.length / seconds;
}

const dataDir = await mkdtemp(join(tmpdir(), 'iocli-bench-'));
const chain = await startLocalChain({ dataDir });
try {
  const connection = new Connection(chain.rpcUrl, { commitment: 'confirmed', wsEndpoint: chain.wsUrl });
  const payer = generateKeypair();
  await fundFromFaucet(chain.rpcUrl, { mint: '', faucetAuthority: { publicKey: '', keypairPath: '' } }, payer.publicKey, { sol: 100 });
  const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash();
  const sol = [];
  for (let i = 0; i < count; i++) {
    const tx = new Transaction({ feePayer: new PublicKey(payer.publicKey), blockhash, lastValidBlockHeight });
    tx.add(SystemProgram.transfer({ fromPubkey: new PublicKey(payer.publicKey), toPubkey: Keypair.generate().publicKey, lamports: LAMPORTS_PER_SOL / 1000 + i }));
    sol.push(Buffer.from(signTransaction(tx, [payer]).transactionBase64, 'base64'));
  }
  const half = Math.floor(count / 2);
  const solRate = await sendAll(connection, sol.slice(0, half));
  const rawSend = async (wire) => {
    const response = await fetch(chain.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'sendTransaction', params: [wire.toString('base64'), { encoding: 'base64' }] }),
    });
    const body = await response.json();
    if (body.error) throw new Error(body.error.message);
    return body.result;
  };
  const solRawRate = await sendAll(connection, sol.slice(half), rawSend);

  const network = await bootstrapLocalNetwork(connection, { dataDir });
  await fundFromFaucet(chain.rpcUrl, network, payer.publicKey, { tokens: BigInt(count) * 1000n });
  const fixed = { getLatestBlockhash: async () => connection.getLatestBlockhash() };
  const latest = await fixed.getLatestBlockhash();
  const stub = { getLatestBlockhash: async () => latest };
  const payments = [];
  for (let i = 0; i < count; i++) {
    const built = await buildLeasePayment({ connection: stub, payer, mint: network.mint, treasuryTokenAccount: network.treasury.tokenAccount, amount: 1000n, quoteId: `q_${i}` });
    payments.push(Buffer.from(built.transactionBase64, 'base64'));
  }
  const tokenRate = await sendAll(connection, payments.slice(0, half));
  const tokenRawRate = await sendAll(connection, payments.slice(half), rawSend);
  console.log(`transactions per kind: ${count} (half per client), concurrency ${concurrency}, preflight on, ledger on disk`);
  console.log(`SOL transfers:                via web3.js Connection ${Math.round(solRate)} tx/s, via bare fetch ${Math.round(solRawRate)} tx/s`);
  console.log(`token transferChecked + memo: via web3.js Connection ${Math.round(tokenRate)} tx/s, via bare fetch ${Math.round(tokenRawRate)} tx/s`);
} finally {
  await chain.close();
  await rm(dataDir, { recursive: true, force: true });
}
