// Keypair files in the Solana CLI format (a JSON array of 64 bytes: 32-byte seed + 32-byte public key).
// Uses node:crypto ed25519 and bs58 only, so commands that merely sign API requests never load web3.js.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import bs58 from 'bs58';
import { privateKeyFromSecret } from '../api/signing.js';
import { UserError } from '../errors.js';

export interface Keypair {
  /** base58 public key (the wallet address). */
  publicKey: string;
  /** 64 bytes: seed followed by public key, as Solana tools expect. Never log or send. */
  secretKey: Uint8Array;
}

/** Solana CLI's default if it exists (so existing wallets just work), else one in iocli's config dir. */
export function defaultKeypairPath(configDir: string, home = homedir()): string {
  const solanaDefault = join(home, '.config', 'solana', 'id.json');
  return existsSync(solanaDefault) ? solanaDefault : join(configDir, 'id.json');
}

export function expandHome(path: string, home = homedir()): string {
  return path === '~' || path.startsWith('~/') ? join(home, path.slice(1)) : path;
}

export function generateKeypair(): Keypair {
  const { privateKey } = generateKeyPairSync('ed25519');
  return keypairFromSeed(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'));
}

export function keypairFromSeed(seed: Uint8Array): Keypair {
  const publicKey = publicKeyFromSeed(seed);
  const secretKey = new Uint8Array(64);
  secretKey.set(seed, 0);
  secretKey.set(publicKey, 32);
  return { publicKey: bs58.encode(publicKey), secretKey };
}

function publicKeyFromSeed(seed: Uint8Array): Uint8Array {
  const jwk = createPublicKey(privateKeyFromSecret(seed)).export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x!, 'base64url'));
}

/**
 * Parse keypair bytes from the Solana CLI JSON array or a base58 secret key (what browser wallets export).
 * Checks that the public half matches the seed, so a corrupted file is caught before it signs anything.
 */
export function parseKeypair(text: string, source: string): Keypair {
  const trimmed = text.trim();
  let bytes: Uint8Array;
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw invalid(source, 'it is not valid JSON');
    }
    if (!Array.isArray(parsed) || !parsed.every((n) => Number.isInteger(n) && n >= 0 && n <= 255)) {
      throw invalid(source, 'expected a JSON array of byte values');
    }
    bytes = Uint8Array.from(parsed as number[]);
  } else if (/^[1-9A-HJ-NP-Za-km-z]+$/.test(trimmed)) {
    bytes = bs58.decode(trimmed);
  } else {
    throw invalid(source, 'it is neither a JSON byte array nor a base58 secret key');
  }
  if (bytes.length !== 64) throw invalid(source, `expected 64 bytes, found ${bytes.length}`);
  const keypair = keypairFromSeed(bytes.subarray(0, 32));
  if (!Buffer.from(keypair.secretKey.subarray(32)).equals(Buffer.from(bytes.subarray(32)))) {
    throw invalid(source, 'its public key does not match its secret key');
  }
  return keypair;
}

function invalid(source: string, why: string): UserError {
  return new UserError(`Invalid keypair file ${source}: ${why}.`, {
    code: 'KEYPAIR_INVALID',
    hint: 'A keypair file is a JSON array of 64 numbers, as written by `solana-keygen` or `iocli wallet new`.',
  });
}

/** Load and validate a keypair file; refuses files other users can read (like ssh does). */
export async function loadKeypairFile(path: string): Promise<Keypair> {
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UserError(`Keypair path ${path} is not a file.`, { code: 'KEYPAIR_INVALID' });
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw new UserError(`Keypair file ${path} is readable by other users (mode ${(info.mode & 0o777).toString(8)}).`, {
        code: 'KEYPAIR_PERMISSIONS',
        hint: `Restrict it with: chmod 600 ${path}`,
      });
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new UserError(`No keypair file at ${path}.`, {
        code: 'KEYPAIR_MISSING',
        hint: 'Create one with `iocli wallet new`, import one with `iocli wallet import`, or pass --keypair PATH.',
      });
    }
    if (code === 'EACCES') throw new UserError(`Permission denied reading keypair file ${path}.`, { code: 'KEYPAIR_PERMISSIONS', hint: `Check the owner and mode of ${path}.` });
    throw new UserError(`Cannot read keypair file ${path}: ${(error as Error).message}`, { code: 'KEYPAIR_INVALID' });
  }
  return parseKeypair(text, path);
}

/** Write a keypair file with mode 0600; refuses to overwrite unless `force`. */
export async function writeKeypairFile(path: string, keypair: Keypair, { force = false } = {}): Promise<void> {
  if (!force && existsSync(path)) {
    throw new UserError(`A keypair file already exists at ${path}.`, {
      code: 'KEYPAIR_EXISTS',
      hint: 'Pass --force to overwrite it (the old key is lost unless backed up), or choose another path with --outfile.',
    });
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(Array.from(keypair.secretKey))}\n`, { mode: 0o600 });
  await chmod(path, 0o600); // writeFile's mode only applies when creating the file
}
