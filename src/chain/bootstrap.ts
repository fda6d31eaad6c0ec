// Sets up the local network's money: the SPL mint (6 decimals), a treasury and its token account, and a faucet
// that hands out SOL and tokens. Idempotent: keys live in the data directory and existing accounts are reused.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Connection, Keypair as Web3Keypair, LAMPORTS_PER_SOL, PublicKey } from '@solana/web3.js';
import { createMint, getOrCreateAssociatedTokenAccount, mintTo } from '@solana/spl-token';
import { UserError } from '../errors.js';
import { clusterOf } from '../wallet/connection.js';
import { generateKeypair, loadKeypairFile, writeKeypairFile } from '../wallet/keypair.js';
import type { Keypair } from '../wallet/keypair.js';
import { TOKEN_DECIMALS } from '../domain/money.js';

export interface LocalNetwork {
  rpcUrl: string;
  mint: string;
  decimals: typeof TOKEN_DECIMALS;
  treasury: { publicKey: string; tokenAccount: string; keypairPath: string };
  /** Mint authority and fee payer for faucet hand-outs. */
  faucetAuthority: { publicKey: string; keypairPath: string };
}

const MIN_AUTHORITY_LAMPORTS = 10 * LAMPORTS_PER_SOL;
const AUTHORITY_AIRDROP = 1000 * LAMPORTS_PER_SOL;
const TREASURY_AIRDROP = 100 * LAMPORTS_PER_SOL;

export async function bootstrapLocalNetwork(connectionOrRpcUrl: Connection | string, { dataDir }: { dataDir: string }): Promise<LocalNetwork> {
  const connection = typeof connectionOrRpcUrl === 'string' ? localConnection(connectionOrRpcUrl) : connectionOrRpcUrl;
  requireLocal(connection.rpcEndpoint);
  const authorityPath = join(dataDir, 'faucet-authority.json');
  const mintPath = join(dataDir, 'mint.json');
  const treasuryPath = join(dataDir, 'treasury.json');
  const authority = toWeb3(await loadOrCreateKeypair(authorityPath));
  const mintKeypair = toWeb3(await loadOrCreateKeypair(mintPath));
  const treasury = toWeb3(await loadOrCreateKeypair(treasuryPath));

  await topUp(connection, authority.publicKey, MIN_AUTHORITY_LAMPORTS, AUTHORITY_AIRDROP);
  // The treasury pays fees (and new recipients' token-account rent) for payouts.
  await topUp(connection, treasury.publicKey, TREASURY_AIRDROP / 10, TREASURY_AIRDROP);
  if (!(await connection.getAccountInfo(mintKeypair.publicKey))) {
    await createMint(connection, authority, authority.publicKey, null, TOKEN_DECIMALS, mintKeypair);
  }
  const tokenAccount = await getOrCreateAssociatedTokenAccount(connection, authority, mintKeypair.publicKey, treasury.publicKey);
  return {
    rpcUrl: connection.rpcEndpoint,
    mint: mintKeypair.publicKey.toBase58(),
    decimals: TOKEN_DECIMALS,
    treasury: { publicKey: treasury.publicKey.toBase58(), tokenAccount: tokenAccount.address.toBase58(), keypairPath: treasuryPath },
    faucetAuthority: { publicKey: authority.publicKey.toBase58(), keypairPath: authorityPath },
  };
}

export interface FaucetResult {
  solSignature?: string;
  tokenSignature?: string;
  /** The recipient's associated token account, when tokens were requested. */
  tokenAccount?: string;
}

/** `iocli wallet airdrop` on the local network: SOL from the chain's faucet, tokens minted by the faucet authority. */
export async function fundFromFaucet(
  connectionOrRpcUrl: Connection | string,
  network: Pick<LocalNetwork, 'mint' | 'faucetAuthority'>,
  recipient: string,
  { sol = 0, tokens = 0n }: { sol?: number; tokens?: bigint },
): Promise<FaucetResult> {
  const connection = typeof connectionOrRpcUrl === 'string' ? localConnection(connectionOrRpcUrl) : connectionOrRpcUrl;
  requireLocal(connection.rpcEndpoint);
  const owner = new PublicKey(recipient);
  const result: FaucetResult = {};
  if (sol > 0) {
    result.solSignature = await connection.requestAirdrop(owner, Math.round(sol * LAMPORTS_PER_SOL));
    await connection.confirmTransaction({ signature: result.solSignature, ...(await connection.getLatestBlockhash()) });
  }
  if (tokens > 0n) {
    const authority = toWeb3(await loadKeypairFile(network.faucetAuthority.keypairPath));
    const mint = new PublicKey(network.mint);
    const account = await getOrCreateAssociatedTokenAccount(connection, authority, mint, owner);
    result.tokenAccount = account.address.toBase58();
    result.tokenSignature = await mintTo(connection, authority, mint, account.address, authority, tokens);
  }
  return result;
}

/** The local chain also answers WebSocket on its HTTP port, which holds even when it listens on a random port. */
function localConnection(rpcUrl: string): Connection {
  requireLocal(rpcUrl);
  return new Connection(rpcUrl, { commitment: 'confirmed', wsEndpoint: rpcUrl.replace(/^http/, 'ws') });
}

function requireLocal(rpcUrl: string): void {
  if (clusterOf(rpcUrl) !== 'localnet') {
    throw new UserError(`The faucet exists only on the local network, not on ${rpcUrl}.`, {
      code: 'NOT_LOCAL_NETWORK',
      hint: 'Start one with `iocli network up`; on devnet use https://faucet.solana.com.',
    });
  }
}

async function topUp(connection: Connection, address: PublicKey, minimum: number, amount: number): Promise<void> {
  if ((await connection.getBalance(address)) >= minimum) return;
  const signature = await connection.requestAirdrop(address, amount);
  await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash()) });
}

async function loadOrCreateKeypair(path: string): Promise<Keypair> {
  if (existsSync(path)) return loadKeypairFile(path);
  const keypair = generateKeypair();
  await writeKeypairFile(path, keypair);
  return keypair;
}

function toWeb3(keypair: Keypair): Web3Keypair {
  return Web3Keypair.fromSecretKey(keypair.secretKey);
}
