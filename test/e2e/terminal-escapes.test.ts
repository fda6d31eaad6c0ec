// Provider-controlled text reaching a renter's terminal, through the spawned binary: escape sequences in lease logs and
// in offers (a row stored before labels were validated) are shown as visible escapes; --json keeps the data; --raw is
// the explicit opt-in to the exact bytes.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { writeKeypairFile } from '../../src/wallet/keypair.js';
import { BIN, assertBuilt, tempHome } from '../support/cli.js';
import { newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

const ESC = 0x1b;
const TITLE = '\u001b]0;owned\u0007';
const CLEAR = '\u001b[2J\u001b[H';

function spawnCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: Buffer; stderr: Buffer }> {
  assertBuilt();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', CI: '1', ...env }, encoding: 'buffer', timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('terminal escapes from providers (spawned binary)', () => {
  let coordinator: TestCoordinator;
  const home = tempHome();
  let env: Record<string, string>;
  let leaseId: string;
  const logBytes = Buffer.from(`starting${TITLE}\n${CLEAR}loss 0.1\u009b31m\n`, 'utf8');

  beforeAll(async () => {
    coordinator = await startTestCoordinator('sqlite');
    const provider = coordinator.client(newKeypair());
    const renterKeypair = newKeypair();
    const keypairPath = join(home.dir, 'renter.json');
    await writeKeypairFile(keypairPath, renterKeypair);
    env = { ...home.env, IOCLI_API_URL: coordinator.url, IOCLI_KEYPAIR: keypairPath };

    const node = await provider.registerNode(nodeSpec({ gpuCount: 1, model: 'NVIDIA GeForce RTX 4090' }));
    const renter = coordinator.client(renterKeypair);
    const quote = await renter.quote({ gpus: 1, image: 'busybox:latest' });
    leaseId = (await renter.createLease({ quoteId: quote.quoteId })).id;
    await provider.uploadLogs(node.id, leaseId, { chunks: [{ stream: 'stdout', data: logBytes.toString('base64'), encoding: 'base64' }] });

    // A second node whose labels were stored before the coordinator refused control characters.
    const old = await provider.registerNode(nodeSpec({ gpuCount: 2, model: 'NVIDIA GeForce RTX 4090' }));
    const db = (coordinator.server.service as unknown as { ctx: { db: Kysely<any> } }).ctx.db;
    await db.updateTable('nodes').set({ region: `eu${TITLE}${CLEAR}` }).where('id', '=', old.id).execute();
  });
  afterAll(async () => {
    await coordinator?.close();
    home.cleanup();
  });

  it('lease logs shows escape sequences as text, never as control bytes', async () => {
    const result = await spawnCli(['lease', 'logs', leaseId], env);
    expect(result.code).toBe(0);
    expect(result.stdout.includes(ESC)).toBe(false);
    expect(result.stdout.includes(0x07)).toBe(false);
    const text = result.stdout.toString('utf8');
    expect(text).toContain('starting\\x1b]0;owned\\x07\n');
    expect(text).toContain('\\x1b[2J\\x1b[Hloss 0.1\\x9b31m\n');
  });

  it('lease logs --raw writes the exact bytes; --json keeps the text as data', async () => {
    const raw = await spawnCli(['lease', 'logs', leaseId, '--raw'], env);
    expect(raw.code).toBe(0);
    expect(raw.stdout).toEqual(logBytes);

    const json = await spawnCli(['--json', 'lease', 'logs', leaseId], env);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout.toString('utf8')) as { entries: Array<{ data: string }> };
    expect(doc.entries.map((e) => e.data).join('')).toBe(logBytes.toString('utf8'));
  });

  it('offers renders a provider region with escapes inertly; --json keeps it', async () => {
    const table = await spawnCli(['offers'], env);
    expect(table.code).toBe(0);
    expect(table.stdout.includes(ESC)).toBe(false);
    expect(table.stdout.toString('utf8')).toContain('eu\\x1b]0;owned\\x07');

    const json = await spawnCli(['--json', 'offers'], env);
    const offers = (JSON.parse(json.stdout.toString('utf8')) as { offers: Array<{ region: string }> }).offers;
    expect(offers.map((o) => o.region)).toContain(`eu${TITLE}${CLEAR}`);
  });
});
