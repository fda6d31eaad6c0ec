import { generateKeyPairSync } from 'node:crypto';
import bs58 from 'bs58';
import { describe, expect, it } from 'vitest';
import { canonicalRequest, sha256Hex, signRequest, verifySignedRequest } from '../../src/api/signing.js';

function keypair() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return { publicKey: bs58.encode(pub), secretKey: new Uint8Array(Buffer.concat([seed, pub])) };
}

describe('request signing', () => {
  const kp = keypair();
  const now = 1_700_000_000_000;
  const body = '{"gpus":1}';
  const headers = signRequest(kp, { method: 'post', path: '/v1/leases?x=1', body, timestamp: now, nonce: 'nonce-123456' });

  it('signs the canonical string', () => {
    expect(canonicalRequest('post', '/p', '1', 'n', '')).toBe(`POST\n/p\n1\nn\n${sha256Hex('')}`);
    expect(headers).toMatchObject({ 'x-iocli-pubkey': kp.publicKey, 'x-iocli-timestamp': String(now), 'x-iocli-nonce': 'nonce-123456' });
  });

  it('verifies a good request', () => {
    expect(verifySignedRequest('POST', '/v1/leases?x=1', { ...headers }, body, { now })).toEqual({ ok: true, publicKey: kp.publicKey, nonce: 'nonce-123456', timestamp: now });
  });

  it.each([
    ['another body', 'POST', '/v1/leases?x=1', '{"gpus":2}', {}, now, 'signature'],
    ['another path', 'POST', '/v1/leases?x=2', body, {}, now, 'signature'],
    ['another method', 'GET', '/v1/leases?x=1', body, {}, now, 'signature'],
    ['another key', 'POST', '/v1/leases?x=1', body, { 'x-iocli-pubkey': keypair().publicKey }, now, 'signature'],
    ['clock 61 s ahead', 'POST', '/v1/leases?x=1', body, {}, now - 61_000, 'skew'],
    ['clock 61 s behind', 'POST', '/v1/leases?x=1', body, {}, now + 61_000, 'skew'],
    ['garbage signature', 'POST', '/v1/leases?x=1', body, { 'x-iocli-signature': 'notbase58!' }, now, 'malformed'],
    ['missing header', 'POST', '/v1/leases?x=1', body, { 'x-iocli-nonce': undefined }, now, 'missing'],
  ])('rejects %s', (_name, method, path, sentBody, override, serverNow, reason) => {
    const result = verifySignedRequest(method, path, { ...headers, ...override }, sentBody, { now: serverNow });
    expect(result).toMatchObject({ ok: false, reason });
  });
});
