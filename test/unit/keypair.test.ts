import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair as Web3Keypair } from '@solana/web3.js';
import bs58 from 'bs58';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { generateKeypair, loadKeypairFile, parseKeypair, writeKeypairFile } from '../../src/wallet/keypair.js';

const dir = mkdtempSync(join(tmpdir(), 'iocli-keypair-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('keypair files', () => {
  it('derives the same address as @solana/web3.js from the same bytes', () => {
    const reference = Web3Keypair.generate();
    const parsed = parseKeypair(JSON.stringify(Array.from(reference.secretKey)), 'test');
    expect(parsed.publicKey).toBe(reference.publicKey.toBase58());
    expect(Web3Keypair.fromSecretKey(generateKeypair().secretKey)).toBeInstanceOf(Web3Keypair);
  });

  it('accepts a base58 secret key as browser wallets export it', () => {
    const reference = Web3Keypair.generate();
    expect(parseKeypair(bs58.encode(reference.secretKey), 'test').publicKey).toBe(reference.publicKey.toBase58());
  });

  it('rejects a file whose public half does not match its seed', () => {
    const bytes = Array.from(generateKeypair().secretKey);
    bytes[40] = (bytes[40]! + 1) % 256;
    expect(() => parseKeypair(JSON.stringify(bytes), 'x')).toThrow(/does not match/);
  });

  it('writes 0600 files, refuses to overwrite without force, and round-trips', async () => {
    const path = join(dir, 'sub', 'id.json');
    const keypair = generateKeypair();
    await writeKeypairFile(path, keypair);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await expect(writeKeypairFile(path, generateKeypair())).rejects.toThrow(UserError);
    await writeKeypairFile(path, keypair, { force: true });
    expect((await loadKeypairFile(path)).publicKey).toBe(keypair.publicKey);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(Array.from(keypair.secretKey));
  });

  it('refuses group- or world-readable keypair files', async () => {
    const path = join(dir, 'open.json');
    writeFileSync(path, JSON.stringify(Array.from(generateKeypair().secretKey)), { mode: 0o644 });
    await expect(loadKeypairFile(path)).rejects.toMatchObject({ code: 'KEYPAIR_PERMISSIONS' });
  });
});

