// Money throughput through the real coordinator on the local chain: lease payments verified + confirmed per second,
// refunds (lease stop) per second, and reward claims paid per second. The coordinator runs in its own process
// (SQLite, real SolanaPaymentVerifier/PayoutSender); the chain (litesvm) and the clients run in this one.
// Usage: npm run build && node bench/payments.mjs [payments=200] [claims=200] [concurrency=32]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Connection, PublicKey } from '@solana/web3.js';
import { createApiClient } from '../dist/src/api/client.js';
import { bootstrapLocalNetwork, fundFromFaucet } from '../dist/src/chain/bootstrap.js';
import { startLocalChain } from '../dist/src/chain/local-chain.js';
import { openDatabase } from '../dist/src/coordinator/db.js';
import { generateKeypair } from '../dist/src/wallet/keypair.js';
import { associatedTokenAddress, buildLeasePayment } from '../dist/src/wallet/payment.js';

const PAYMENTS = Number(process.argv[2] ?? 200);
const CLAIMS = Number(process.argv[3] ?? 200);
const CONCURRENCY = Number(process.argv[4] ?? 32);
const RENTERS = 8;
const GPUS_PER_NODE = 64;
const entry = new URL('../dist/src/coordinator/main-process.js', import.meta.url).pathname;

async function pool(items, concurrency, fn) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i], i);
      }
    }),
  );
  return results;
}

async function timed(label, count, fn) {
  const started = performance.now();
  const result = await fn();
  const seconds = (performance.now() - started) / 1000;
  console.log(`${label.padEnd(48)} ${String(count).padStart(5)} in ${seconds.toFixed(2)} s = ${(count / seconds).toFixed(1)}/s`);
  return result;
}

const dir = mkdtempSync(join(tmpdir(), 'iocli-bench-pay-'));
const chain = await startLocalChain({ dataDir: join(dir, 'chain') });
let child;
try {
  const connection = new Connection(chain.rpcUrl, { commitment: 'confirmed', wsEndpoint: chain.wsUrl });
  const local = await bootstrapLocalNetwork(connection, { dataDir: join(dir, 'keys') });
  const balance = async (owner) => {
    try {
      return Number((await connection.getTokenAccountBalance(new PublicKey(associatedTokenAddress(owner, local.mint)))).value.amount);
    } catch {
      return 0;
    }
  };

  // Claims need earned rewards: write the accruals metering would have written, and give the treasury the tokens.
  const earners = Array.from({ length: CLAIMS }, () => generateKeypair());
  const seed = await openDatabase({ dataDir: join(dir, 'coordinator') });
  for (const e of earners) await seed.db.insertInto('ledger').values({ kind: 'accrual', account: e.publicKey, amount: 1_000_000, lease_id: null, claim_id: null, created_at: Date.now() }).execute();
  await seed.close();
  await fundFromFaucet(chain.rpcUrl, local, local.treasury.publicKey, { tokens: BigInt(CLAIMS) * 1_000_000n });

  const options = {
    port: 0,
    dev: true,
    rateLimit: false,
    faucetPerMinute: 1_000,
    dataDir: join(dir, 'coordinator'),
    solana: { rpcUrl: chain.rpcUrl, wsUrl: chain.wsUrl, mint: local.mint, treasuryKeypairPath: local.treasury.keypairPath, treasuryTokenAccount: local.treasury.tokenAccount, faucetAuthorityKeypairPath: local.faucetAuthority.keypairPath, pollMs: 20 },
  };
  child = spawn(process.execPath, [entry, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line).url));
    child.once('exit', (code) => reject(new Error(`coordinator exited ${code}`)));
  });

  const provider = createApiClient({ baseUrl: url, keypair: generateKeypair() });
  for (let i = 0; i < Math.ceil(PAYMENTS / GPUS_PER_NODE); i++) {
    await provider.registerNode({
      machineId: `bench-${i}`,
      gpus: Array.from({ length: GPUS_PER_NODE }, (_, index) => ({ index, uuid: `GPU-bench-${i}-${index}`, model: 'NVIDIA H100', vramMb: 81_920 })),
      cpu: { cores: 64 },
      memoryMb: 512_000,
      region: 'bench',
      pricePerGpuHour: 2_000_000,
      simulated: true,
    });
  }
  const renters = Array.from({ length: RENTERS }, () => generateKeypair());
  for (const r of renters) await createApiClient({ baseUrl: url }).faucet({ address: r.publicKey, tokens: '100000', sol: 1 });
  const treasuryBefore = await balance(local.treasury.publicKey);

  // Quotes and signed payments up front: the measured part is the coordinator verifying, submitting and confirming.
  const prepared = await pool(Array.from({ length: PAYMENTS }, (_, i) => i), 8, async (i) => {
    const payer = renters[i % RENTERS];
    const client = createApiClient({ baseUrl: url, keypair: payer, timeoutMs: 120_000 });
    const quote = await client.quote({ gpus: 1, image: 'busybox', hours: 1 });
    const payment = await buildLeasePayment({ connection, payer, mint: local.mint, treasuryTokenAccount: local.treasury.tokenAccount, amount: BigInt(quote.total), quoteId: quote.quoteId });
    return { client, quote, payment };
  });

  console.log(`local chain + coordinator (SQLite, own process), concurrency ${CONCURRENCY}, node ${process.version}`);
  const leases = await timed('payments verified + confirmed (POST /v1/leases)', PAYMENTS, () =>
    pool(prepared, CONCURRENCY, ({ client, quote, payment }) => client.createLease({ quoteId: quote.quoteId, payment: { transaction: payment.transactionBase64 } }).then((lease) => ({ client, lease }))),
  );
  const stops = await timed('refunds sent + confirmed (POST stop)', PAYMENTS, () => pool(leases, CONCURRENCY, ({ client, lease }) => client.stopLease(lease.id)));
  const claims = await timed('claims paid (POST /v1/rewards/claim)', CLAIMS, () =>
    pool(earners, CONCURRENCY, (e) => createApiClient({ baseUrl: url, keypair: e, timeoutMs: 120_000 }).claimRewards()),
  );

  const paid = prepared.reduce((n, p) => n + p.quote.total, 0);
  const refunded = stops.reduce((n, s) => n + s.refund, 0);
  const claimed = claims.reduce((n, c) => n + c.amount, 0);
  const delta = (await balance(local.treasury.publicKey)) - treasuryBefore;
  const ok = delta === paid - refunded - claimed && claims.every((c) => c.state === 'paid') && stops.every((s) => s.refund === 0 || s.refundSignature);
  console.log(`treasury delta ${delta} = paid ${paid} - refunded ${refunded} - claimed ${claimed}: ${ok ? 'ok' : 'MISMATCH'}`);
  if (!ok) process.exitCode = 1;
} finally {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  await chain.close();
  rmSync(dir, { recursive: true, force: true });
}
