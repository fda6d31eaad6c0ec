// kill -9 the coordinator between signing a claim's transfer and its confirmation, restart on the same data:
// every claim ends paid exactly once (checked on chain), whether the stored transfer was unsent, expired, or already landed.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../src/api/client.js';
import { fundFromFaucet, type LocalNetwork } from '../../src/chain/bootstrap.js';
import type { LocalChain } from '../../src/chain/local-chain.js';
import { openDatabase } from '../../src/coordinator/db.js';
import type { Keypair } from '../../src/wallet/keypair.js';
import { startTestLocalNetwork, type TestLocalNetwork } from '../support/chain.js';
import { createStorage, ENGINES, newKeypair } from '../support/coordinator.js';
import { ensureCoordinatorBuilt, kill9, spawnCoordinatorProcess, type CoordinatorProcess } from '../support/coordinator-process.js';

describe.each(ENGINES)('payout crash safety on %s', (engine) => {
  let net: TestLocalNetwork;
  let chain: LocalChain;
  let local: LocalNetwork;
  let storage: Awaited<ReturnType<typeof createStorage>>;
  const children: ChildProcess[] = [];
  const providers = { a: newKeypair(), b: newKeypair(), c: newKeypair() };
  const owed = { a: 1_111_111, b: 2_222_222, c: 3_333_333 };

  const start = (pauseAt?: 'signed' | 'sent'): Promise<CoordinatorProcess> =>
    spawnCoordinatorProcess({ port: 0, dev: true, rateLimit: false, ...storage.location, solana: net.solana }, { pauseAt, children });

  const balance = (owner: Keypair | string) => net.tokenBalance(typeof owner === 'string' ? owner : owner.publicKey);

  beforeAll(async () => {
    ensureCoordinatorBuilt();
    net = await startTestLocalNetwork('iocli-payout-crash-');
    ({ chain, local } = net);
    await fundFromFaucet(chain.rpcUrl, local, local.treasury.publicKey, { tokens: 10_000_000n });
    storage = await createStorage(engine);
    // Earned rewards, as metering would have written them.
    const seed = await openDatabase(storage.location);
    for (const [key, amount] of Object.entries(owed)) {
      await seed.db.insertInto('ledger').values({ kind: 'accrual', account: providers[key as keyof typeof providers].publicKey, amount, lease_id: null, claim_id: null, created_at: Date.now() }).execute();
    }
    await seed.close();
  });

  afterAll(async () => {
    for (const child of children) await kill9(child);
    await storage?.release();
    await net?.close();
  });

  async function claimAndKillAtPause(pauseAt: 'signed' | 'sent', provider: Keypair): Promise<void> {
    const c = await start(pauseAt);
    const claim = createApiClient({ baseUrl: c.url, keypair: provider, timeoutMs: 60_000 }).claimRewards().catch(() => undefined); // the process dies mid-request
    await c.paused;
    await kill9(c.child);
    await claim;
  }

  it('pays each claim exactly once across kill -9 after signing (sent later, or re-signed after expiry) and after sending', async () => {
    const treasuryBefore = await balance(local.treasury.publicKey);

    // Each restart recovers before it listens; the paused runs start with nothing left to recover.
    const restart = async () => kill9((await start()).child);

    // A: killed after the signed transfer was stored, before sending; restarted while its blockhash is still valid.
    await claimAndKillAtPause('signed', providers.a);
    expect(await balance(providers.a)).toBe(0);
    await restart();
    expect(await balance(providers.a)).toBe(owed.a);

    // C: the same, but the stored transfer's blockhash expires before the restart: it is re-signed, and pays once.
    await claimAndKillAtPause('signed', providers.c);
    expect(await balance(providers.c)).toBe(0);
    chain.advanceSlots(200);
    await restart();
    expect(await balance(providers.c)).toBe(owed.c);

    // B: killed after the transfer landed, before the row was marked paid; its blockhash expires too.
    await claimAndKillAtPause('sent', providers.b);
    expect(await balance(providers.b)).toBe(owed.b);
    chain.advanceSlots(200);

    // Recovery settled everything from the chain and re-sent nothing that had landed.
    const final = await start();
    for (const key of ['a', 'b', 'c'] as const) {
      expect(await balance(providers[key])).toBe(owed[key]);
      const rewards = await createApiClient({ baseUrl: final.url, keypair: providers[key] }).rewards();
      expect(rewards).toMatchObject({ accrued: owed[key], claimed: owed[key], pending: 0, claimable: 0 });
      expect(rewards.history?.claims).toHaveLength(1);
    }
    expect(await balance(local.treasury.publicKey)).toBe(treasuryBefore - owed.a - owed.b - owed.c);
    await kill9(final.child);
  });
});
