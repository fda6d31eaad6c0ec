// Local chains for integration tests: a chain in its own temp dir with the local network (mint, treasury, faucet)
// bootstrapped on it and the coordinator's Solana settings for it; or a bare chain with a funded payer; each closed
// together with its dir.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, Keypair as SolanaKeypair, LAMPORTS_PER_SOL, PublicKey } from '@solana/web3.js';
import { bootstrapLocalNetwork, fundFromFaucet, type LocalNetwork } from '../../src/chain/bootstrap.js';
import { startLocalChain, type LocalChain, type LocalChainOptions } from '../../src/chain/local-chain.js';
import type { SolanaPaymentsConfig } from '../../src/coordinator/solana-payments.js';
import { generateKeypair, type Keypair } from '../../src/wallet/keypair.js';
import { associatedTokenAddress, buildLeasePayment } from '../../src/wallet/payment.js';

export interface TestLocalNetwork {
  /** The temp dir: the chain's ledger in chain/, the network's keys in keys/. */
  dir: string;
  chain: LocalChain;
  connection: Connection;
  local: LocalNetwork;
  /** What createSolanaHooks (or the coordinator process's `solana` option) takes for this chain, polling fast. */
  solana: SolanaPaymentsConfig;
  /** The token balance of `owner`'s associated account in base units; 0 while it has none. */
  tokenBalance(owner: string): Promise<number>;
  /** A new wallet funded from the faucet with `tokens` base units and 1 SOL. */
  fundedKeypair(tokens: bigint): Promise<Keypair>;
  /** A signed lease payment (base64 transaction) of `amount` from `payer` to the treasury, referencing `reference`. */
  leasePayment(payer: Keypair, amount: number, reference: string): Promise<string>;
  close(): Promise<void>;
}

/** Starts a chain in a fresh temp dir named `dirPrefix…` and bootstraps the local network on it; `faucet` adds the faucet authority to `solana`. */
export async function startTestLocalNetwork(dirPrefix: string, { faucet = false }: { faucet?: boolean } = {}): Promise<TestLocalNetwork> {
  const dir = await mkdtemp(join(tmpdir(), dirPrefix));
  let chain: LocalChain | undefined;
  const close = async () => {
    await chain?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    chain = await startLocalChain({ dataDir: join(dir, 'chain') });
    const connection = connectTo(chain);
    const local = await bootstrapLocalNetwork(connection, { dataDir: join(dir, 'keys') });
    const solana: SolanaPaymentsConfig = {
      rpcUrl: chain.rpcUrl,
      wsUrl: chain.wsUrl,
      mint: local.mint,
      treasuryKeypairPath: local.treasury.keypairPath,
      treasuryTokenAccount: local.treasury.tokenAccount,
      ...(faucet ? { faucetAuthorityKeypairPath: local.faucetAuthority.keypairPath } : {}),
      pollMs: 20,
    };
    const tokenBalance = async (owner: string) => {
      try {
        return Number((await connection.getTokenAccountBalance(new PublicKey(associatedTokenAddress(owner, local.mint)))).value.amount);
      } catch {
        return 0; // no token account yet
      }
    };
    const fundedKeypair = async (tokens: bigint) => {
      const keypair = generateKeypair();
      await fundFromFaucet(chain!.rpcUrl, local, keypair.publicKey, { tokens, sol: 1 });
      return keypair;
    };
    const leasePayment = async (payer: Keypair, amount: number, reference: string) =>
      (await buildLeasePayment({ connection, payer, mint: local.mint, treasuryTokenAccount: local.treasury.tokenAccount, amount: BigInt(amount), quoteId: reference })).transactionBase64;
    return { dir, chain, connection, local, solana, tokenBalance, fundedKeypair, leasePayment, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A web3.js Connection to `chain` at 'confirmed', subscriptions on its WebSocket port. */
export function connectTo(chain: LocalChain): Connection {
  return new Connection(chain.rpcUrl, { commitment: 'confirmed', wsEndpoint: chain.wsUrl });
}

/** Starts a bare local chain and gives a fresh payer `sol` SOL by a confirmed airdrop; the chain is closed if that fails. */
export async function startFundedChain(options: LocalChainOptions, sol: number): Promise<{ chain: LocalChain; connection: Connection; payer: SolanaKeypair }> {
  const chain = await startLocalChain(options);
  try {
    const connection = connectTo(chain);
    const payer = SolanaKeypair.generate();
    await connection.confirmTransaction({ signature: await connection.requestAirdrop(payer.publicKey, sol * LAMPORTS_PER_SOL), ...(await connection.getLatestBlockhash()) });
    return { chain, connection, payer };
  } catch (error) {
    await chain.close();
    throw error;
  }
}

/** The chains and temp data dirs a describe block starts per test; `cleanup` (its afterEach) closes and removes them all. */
export function trackChains(): { chains: LocalChain[]; tempDir(): Promise<string>; cleanup(): Promise<void> } {
  const chains: LocalChain[] = [];
  const dirs: string[] = [];
  return {
    chains,
    async tempDir() {
      const dir = await mkdtemp(join(tmpdir(), 'iocli-chain-'));
      dirs.push(dir);
      return dir;
    },
    async cleanup() {
      await Promise.all(chains.splice(0).map((chain) => chain.close()));
      await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}
