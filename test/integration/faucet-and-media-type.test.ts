// The dev faucet against a real local chain: amounts and addresses it cannot honour are a 400 (not a 500) and cost no
// grant; and a correctly signed body of the wrong media type is a 415, not a signature failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/api/signing.js';
import { createSolanaHooks } from '../../src/coordinator/solana-payments.js';
import { startTestLocalNetwork, type TestLocalNetwork } from '../support/chain.js';
import { newKeypair, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

describe('faucet input and media types (real local chain, SQLite)', () => {
  let net: TestLocalNetwork;
  let coordinator: TestCoordinator;

  beforeAll(async () => {
    net = await startTestLocalNetwork('iocli-faucet-', { faucet: true });
    const hooks = await createSolanaHooks(net.solana);
    coordinator = await startTestCoordinator('sqlite', { dev: true, network: { ...hooks.network, cluster: 'localnet' }, faucet: hooks.faucet, faucetPerMinute: 2 });
  });
  afterAll(async () => {
    await coordinator?.close();
    await net?.close();
  });

  const faucet = (body: unknown) =>
    fetch(`${coordinator.url}/v1/faucet`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it.each([
    ['a fraction of a lamport', { sol: 1e-10 }],
    ['more lamport decimals than exist', { sol: 0.0000000015 }],
    ['a base58 string that decodes to 24 bytes', { address: 'z'.repeat(32), tokens: '1' }],
    ['zero tokens and no SOL', { tokens: '0' }],
    ['zero tokens and zero SOL', { tokens: '0', sol: 0 }],
  ])('refuses %s with a 400 and keeps the grant', async (_what, body) => {
    const address = newKeypair().publicKey;
    const response = await faucet({ address, ...body });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
  });

  it('still grants after the refused requests (they used no grant), up to the limit', async () => {
    const address = newKeypair().publicKey;
    for (let i = 0; i < 3; i++) expect((await faucet({ address, tokens: '0' })).status).toBe(400);
    // (A refusal by the chain, below, does use a grant: it was tried.)
    const belowRent = await faucet({ address, tokens: '0', sol: 0.000000001 });
    expect(belowRent.status).toBe(400);
    expect(((await belowRent.json()) as { error: { code: string } }).error.code).toBe('FAUCET_BELOW_RENT');
    expect((await faucet({ address, tokens: '1', sol: 0.001 })).status).toBe(200);
    expect((await faucet({ address, tokens: '1' })).status).toBe(429);
  });

  it('answers 415 to a correctly signed JSON body sent as text/plain, and 200 to the same as JSON', async () => {
    const keypair = newKeypair();
    const body = JSON.stringify({ machineId: 'media-type-test', gpus: [{ index: 0, uuid: 'GPU-media-0', model: 'RTX 4090', vramMb: 24576 }], cpu: { cores: 4 }, memoryMb: 4096, region: 'local', pricePerGpuHour: 1000, simulated: true });
    const send = (contentType: string) =>
      fetch(`${coordinator.url}/v1/nodes`, { method: 'POST', headers: { 'content-type': contentType, ...signRequest(keypair, { method: 'POST', path: '/v1/nodes', body }) }, body });
    const plain = await send('text/plain');
    expect(plain.status).toBe(415);
    expect(((await plain.json()) as { error: { message: string } }).error.message).toMatch(/application\/json/);
    expect((await send('application/x-www-form-urlencoded')).status).toBe(415);
    expect((await send('application/json; charset=utf-8')).status).toBe(200);
  });
});
