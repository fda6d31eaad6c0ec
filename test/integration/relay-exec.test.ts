// `iocli lease exec` through the relay: real coordinator, real agent relay link, real Docker exec, the spawned binary.
// Exit codes, stdin, binary safety, stderr kept apart; refusals (another renter, ended lease, forged/replayed signature,
// a provider reaching into a lease it does not run); ended leases close their streams.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RELAY_PATHS } from '../../src/api/relay-protocol.js';
import { createSigner } from '../../src/api/signing.js';
import { writeKeypairFile } from '../../src/wallet/keypair.js';
import { ensureDocker, ensureTestImage } from '../support/docker.js';
import { newKeypair } from '../support/coordinator.js';
import { iocli, startRelayBench, type RelayBench } from '../support/relay.js';
import { join } from 'node:path';

const hasDocker = await ensureDocker();

/** Opens a relay WebSocket with the given headers; resolves with the HTTP status of a refusal, or 101. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.terminate();
      resolve({ status: 101, body: '' });
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('error', () => {});
  });
}

describe.skipIf(!hasDocker)('lease exec through the relay', () => {
  let bench: RelayBench;
  let image: string;
  let leaseId: string;

  beforeAll(async () => {
    image = await ensureTestImage();
    bench = await startRelayBench('sqlite');
    await bench.startAgent();
    leaseId = await bench.runningLease({ image, command: ['sleep', '600'] });
  }, 90_000);

  afterAll(async () => {
    await bench?.close();
  });

  it('passes the exit code on: 0, 7, and 127 for a command that does not exist', async () => {
    const ok = await iocli(['lease', 'exec', leaseId, '--', 'sh', '-c', 'echo out; echo err >&2'], bench.env());
    expect(ok.stderr.toString()).toBe('err\n');
    expect(ok.stdout.toString()).toBe('out\n');
    expect(ok.code).toBe(0);

    const seven = await iocli(['lease', 'exec', leaseId, '--', 'sh', '-c', 'exit 7'], bench.env());
    expect(seven.code).toBe(7);

    const missing = await iocli(['lease', 'exec', leaseId, '--', 'no-such-command'], bench.env());
    expect(missing.code).toBe(127);
    expect(missing.stdout.length).toBe(0);
    expect(missing.stderr.toString()).toMatch(/no-such-command/);
  }, 60_000);

  it('sends stdin with -i: echo data | lease exec -i ID -- cat', async () => {
    const result = await iocli(['lease', 'exec', '-i', leaseId, '--', 'cat'], bench.env(), { input: 'data\n' });
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe('data\n');
  });

  it('is binary safe: 1 MB of random bytes through cat, same sha256; stderr stays apart', async () => {
    const bytes = randomBytes(1024 * 1024);
    const result = await iocli(['lease', 'exec', '-i', leaseId, '--', 'sh', '-c', 'cat; echo done >&2'], bench.env(), { input: bytes });
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBe(bytes.length);
    expect(createHash('sha256').update(result.stdout).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(result.stderr.toString()).toBe('done\n');
  }, 60_000);

  it("refuses another renter's lease", async () => {
    const other = newKeypair();
    const otherPath = join(bench.home, 'other.json');
    await writeKeypairFile(otherPath, other);
    const result = await iocli(['lease', 'exec', leaseId, '--', 'true'], bench.env(otherPath));
    expect(result.code).toBe(1);
    expect(result.stderr.toString()).toMatch(/No lease .* for this wallet/);
  });

  it('refuses a forged signature, a replayed one, and an unsigned request', async () => {
    const path = RELAY_PATHS.exec(leaseId, { command: ['true'] });
    const url = `${bench.coordinator.url.replace('http', 'ws')}${path}`;
    const headers = { ...createSigner(bench.renter)('GET', path, '') };
    // Forged: the renter's public key with another wallet's signature over the same request.
    const forged = { ...createSigner(newKeypair())('GET', path, ''), 'x-iocli-pubkey': bench.renter.publicKey };
    expect((await upgradeStatus(url, forged)).status).toBe(401);
    expect((await upgradeStatus(url, headers)).status).toBe(101);
    const replay = await upgradeStatus(url, headers);
    expect(replay.status).toBe(401);
    expect(replay.body).toMatch(/REPLAYED/);
    expect((await upgradeStatus(url, {})).status).toBe(401);
    // Signed for another command: the signature covers the query.
    const tampered = { ...createSigner(bench.renter)('GET', RELAY_PATHS.exec(leaseId, { command: ['id'] }), '') };
    expect((await upgradeStatus(url, tampered)).status).toBe(401);
  });

  it('refuses a provider opening streams into a lease it does not run, or a relay link for a node it does not own', async () => {
    const provider = bench.agents[0]!;
    // The node's owner is not the lease's renter.
    const path = RELAY_PATHS.exec(leaseId, { command: ['true'] });
    const asProvider = await upgradeStatus(`${bench.coordinator.url.replace('http', 'ws')}${path}`, { ...createSigner(provider.owner)('GET', path, '') });
    expect(asProvider.status).toBe(404);
    // Another wallet cannot take over the node's relay link.
    const linkPath = RELAY_PATHS.agent(provider.nodeId);
    const intruder = await upgradeStatus(`${bench.coordinator.url.replace('http', 'ws')}${linkPath}`, { ...createSigner(newKeypair())('GET', linkPath, '') });
    expect(intruder.status).toBeGreaterThanOrEqual(403);
    expect(intruder.status).toBeLessThan(500);
    expect(bench.coordinator.server.relay.linkedNodes()).toContain(provider.nodeId);
  });

  it('ends a running exec when the lease ends, and refuses new streams to an ended lease', async () => {
    const ending = await bench.runningLease({ image, command: ['sleep', '600'] });
    const running = iocli(['lease', 'exec', ending, '--', 'sleep', '300'], bench.env());
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const stoppedAt = Date.now();
    await bench.renterApi.stopLease(ending);
    const result = await running;
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(result.code).not.toBe(0);
    expect({ code: result.code, stderr: result.stderr.toString(), stdout: result.stdout.toString() }).toMatchObject({ stderr: expect.stringMatching(/ended|stopped/i) });

    const after = await iocli(['lease', 'exec', ending, '--', 'true'], bench.env());
    expect(after.code).toBe(4);
    expect(after.stderr.toString()).toMatch(/is stopped/);
  }, 60_000);
});
