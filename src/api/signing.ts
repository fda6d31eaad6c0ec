// Request signing (DESIGN.md, Identity): ed25519 over METHOD\nPATH\nTIMESTAMP\nNONCE\nSHA256HEX(BODY), node:crypto + bs58 only.
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import bs58 from 'bs58';

export const SIGNATURE_HEADERS = {
  pubkey: 'x-iocli-pubkey',
  timestamp: 'x-iocli-timestamp',
  nonce: 'x-iocli-nonce',
  signature: 'x-iocli-signature',
} as const;

export interface SigningKeypair {
  publicKey: string;
  /** 64 bytes: seed + public key (Solana CLI format). */
  secretKey: Uint8Array;
}

export interface SignedHeaders {
  'x-iocli-pubkey': string;
  'x-iocli-timestamp': string;
  'x-iocli-nonce': string;
  'x-iocli-signature': string;
}

// DER headers (RFC 8410) that turn raw 32-byte ed25519 keys into KeyObjects node:crypto accepts.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function sha256Hex(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The exact bytes that are signed. `path` includes the query string, as sent on the wire. */
export function canonicalRequest(method: string, path: string, timestamp: string, nonce: string, body: string | Uint8Array): string {
  return `${method.toUpperCase()}\n${path}\n${timestamp}\n${nonce}\n${sha256Hex(body)}`;
}

export function privateKeyFromSecret(secretKey: Uint8Array): KeyObject {
  if (secretKey.length !== 64 && secretKey.length !== 32) throw new Error('ed25519 secret key must be 32 or 64 bytes');
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(secretKey.subarray(0, 32))]), format: 'der', type: 'pkcs8' });
}

export function publicKeyObject(publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(publicKey)]), format: 'der', type: 'spki' });
}

/** A request signer that caches the private KeyObject (building it costs more than signing). */
export function createSigner(keypair: SigningKeypair): (method: string, path: string, body: string, options?: { timestamp?: number; nonce?: string }) => SignedHeaders {
  const key = privateKeyFromSecret(keypair.secretKey);
  return (method, path, body, options = {}) => {
    const timestamp = String(options.timestamp ?? Date.now());
    const nonce = options.nonce ?? randomBytes(16).toString('hex');
    const signature = sign(null, Buffer.from(canonicalRequest(method, path, timestamp, nonce, body)), key);
    return {
      'x-iocli-pubkey': keypair.publicKey,
      'x-iocli-timestamp': timestamp,
      'x-iocli-nonce': nonce,
      'x-iocli-signature': bs58.encode(signature),
    };
  };
}

export function signRequest(
  keypair: SigningKeypair,
  request: { method: string; path: string; body?: string; timestamp?: number; nonce?: string },
): SignedHeaders {
  return createSigner(keypair)(request.method, request.path, request.body ?? '', request);
}

export type VerifyFailure = 'missing' | 'malformed' | 'skew' | 'signature';
export type VerifyResult = { ok: true; publicKey: string; nonce: string; timestamp: number } | { ok: false; reason: VerifyFailure; message: string };

export interface VerifyOptions {
  now?: number;
  maxSkewMs?: number;
  /** Cache of parsed public keys: verification is hot (every heartbeat). */
  keyCache?: Map<string, KeyObject>;
}

/** Check headers + body against the signature. Replay (nonce reuse) is the caller's job: it needs storage. */
export function verifySignedRequest(
  method: string,
  path: string,
  headers: Record<string, string | string[] | undefined>,
  body: string | Uint8Array,
  options: VerifyOptions = {},
): VerifyResult {
  const pick = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const pubkey = pick(SIGNATURE_HEADERS.pubkey);
  const timestampText = pick(SIGNATURE_HEADERS.timestamp);
  const nonce = pick(SIGNATURE_HEADERS.nonce);
  const signatureText = pick(SIGNATURE_HEADERS.signature);
  if (!pubkey || !timestampText || !nonce || !signatureText) {
    return { ok: false, reason: 'missing', message: 'This request must be signed (x-iocli-pubkey, x-iocli-timestamp, x-iocli-nonce, x-iocli-signature).' };
  }
  if (!/^\d{1,16}$/.test(timestampText)) return { ok: false, reason: 'malformed', message: 'x-iocli-timestamp must be unix milliseconds.' };
  if (nonce.length < 8 || nonce.length > 128 || !/^[A-Za-z0-9_-]+$/.test(nonce)) {
    return { ok: false, reason: 'malformed', message: 'x-iocli-nonce must be 8-128 letters, digits, _ or -.' };
  }
  const timestamp = Number(timestampText);
  const now = options.now ?? Date.now();
  const maxSkew = options.maxSkewMs ?? 60_000;
  if (Math.abs(now - timestamp) > maxSkew) {
    return { ok: false, reason: 'skew', message: `Request timestamp is ${Math.round((now - timestamp) / 1000)} s off the server clock (max ${maxSkew / 1000} s); check the system clock.` };
  }
  let key = options.keyCache?.get(pubkey);
  let signature: Uint8Array;
  try {
    if (!key) {
      const raw = bs58.decode(pubkey);
      if (raw.length !== 32) throw new Error('bad length');
      key = publicKeyObject(raw);
      if (options.keyCache) {
        if (options.keyCache.size > 100_000) options.keyCache.clear();
        options.keyCache.set(pubkey, key);
      }
    }
    signature = bs58.decode(signatureText);
    if (signature.length !== 64) throw new Error('bad length');
  } catch {
    return { ok: false, reason: 'malformed', message: 'x-iocli-pubkey or x-iocli-signature is not valid base58 ed25519.' };
  }
  const valid = verify(null, Buffer.from(canonicalRequest(method, path, timestampText, nonce, body)), key, signature);
  if (!valid) return { ok: false, reason: 'signature', message: 'Request signature does not match the public key.' };
  return { ok: true, publicKey: pubkey, nonce, timestamp };
}
