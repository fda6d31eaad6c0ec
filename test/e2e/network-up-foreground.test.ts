// `iocli network up --json` in the foreground through the real binary: the document arrives as soon as the network
// answers (not when it stops), and with --rpc-port 0 the WebSocket is on RPC port + 1, so an unmodified web3.js client
// given only the RPC URL can confirm a transaction.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Connection, Keypair, LAMPORTS_PER_SOL } from '@solana/web3.js';
import { afterAll, describe, expect, it } from 'vitest';
import { processAlive } from '../../src/process-alive.js';
import { BIN, assertBuilt, tempHome } from '../support/cli.js';

describe('iocli network up --json (foreground)', () => {
  const home = tempHome();
  let child: ChildProcess | undefined;

  afterAll(() => {
    if (child?.pid && processAlive(child.pid)) child.kill('SIGKILL');
    home.cleanup();
  });

  it('prints its document once the network answers, keeps WebSocket = RPC + 1, and prints nothing more at shutdown', async () => {
    assertBuilt();
    const dataDir = join(home.dir, 'net');
    child = spawn(process.execPath, [BIN, 'network', 'up', '--json', '--data-dir', dataDir, '--port', '0', '--rpc-port', '0'], {
      env: { ...process.env, ...home.env, NO_COLOR: '1', CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));

    const deadline = Date.now() + 90_000;
    let info: { apiUrl: string; rpcUrl: string; wsUrl: string; detached: boolean } | undefined;
    while (!info) {
      if (Date.now() > deadline) throw new Error(`no document on stdout within 90 s; stderr: ${stderr}`);
      try {
        info = JSON.parse(stdout);
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    // The process still runs: the document came at start-up, and the network it names answers.
    expect(processAlive(child.pid!)).toBe(true);
    expect(info.detached).toBe(false);
    expect((await fetch(`${info.apiUrl}/healthz`)).status).toBe(200);
    const rpcPort = Number(new URL(info.rpcUrl).port);
    expect(Number(new URL(info.wsUrl).port)).toBe(rpcPort + 1);

    // An unmodified client with only the RPC URL: web3.js derives ws://…:(port + 1) to confirm.
    const connection = new Connection(info.rpcUrl, 'confirmed');
    const wallet = Keypair.generate();
    const signature = await connection.requestAirdrop(wallet.publicKey, LAMPORTS_PER_SOL);
    const latest = await connection.getLatestBlockhash();
    const confirmed = await connection.confirmTransaction({ signature, ...latest }, 'confirmed');
    expect(confirmed.value.err).toBeNull();
    expect(await connection.getBalance(wallet.publicKey)).toBe(LAMPORTS_PER_SOL);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Exactly one JSON document on stdout, the one printed at start-up.
    expect(JSON.parse(stdout)).toEqual(info);
  }, 150_000);
});
