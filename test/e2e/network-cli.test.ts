// `iocli network up --detach` / `status` / `down` through the real binary, on random ports and a temp data dir;
// on the way, the detached network's faucet funds a wallet (`wallet airdrop`) and `wallet balance` shows the symbol.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processAlive } from '../../src/process-alive.js';
import { assertBuilt, runCli, tempHome } from '../support/cli.js';

describe('iocli network up/status/down', () => {
  const home = tempHome();
  const dataDir = join(home.dir, 'net');
  const env = { ...home.env, IOCLI_DATA_DIR: dataDir };
  let pid: number | undefined;

  beforeAll(() => assertBuilt());
  afterAll(async () => {
    // Whatever happened, leave no network running.
    if (pid && processAlive(pid)) process.kill(pid, 'SIGKILL');
    home.cleanup();
  });

  it('starts in the background, answers, funds a wallet, and stops cleanly', async () => {
    const up = await runCli(['network', 'up', '--detach', '--port', '0', '--rpc-port', '0', '--json'], { env, timeoutMs: 90_000 });
    expect(up.code, up.stderr).toBe(0);
    const info = JSON.parse(up.stdout) as { apiUrl: string; rpcUrl: string; mint: string; pid: number; dataDir: string; detached: boolean };
    pid = info.pid;
    expect(info).toMatchObject({ apiUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), rpcUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), detached: true, dataDir });
    expect(JSON.parse(readFileSync(join(dataDir, 'network.json'), 'utf8'))).toMatchObject({ apiUrl: info.apiUrl, pid: info.pid, mint: info.mint });
    expect(existsSync(join(dataDir, 'chain'))).toBe(true);
    expect(existsSync(join(dataDir, 'coordinator', 'coordinator.sqlite'))).toBe(true);

    const status = await runCli(['network', 'status', '--json'], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, coordinator: 'up', chain: 'up', pid: info.pid });

    // A second `up` on the same data dir is refused while the first runs.
    const again = await runCli(['network', 'up', '--detach', '--port', '0', '--rpc-port', '0', '--json'], { env });
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout).error.code).toBe('NETWORK_RUNNING');

    const cliEnv = { ...env, IOCLI_API_URL: info.apiUrl, IOCLI_RPC_URL: info.rpcUrl };
    expect((await runCli(['wallet', 'new', '--json'], { env: cliEnv })).code).toBe(0);
    const airdrop = await runCli(['wallet', 'airdrop', '--sol', '1', '--tokens', '25', '--json'], { env: cliEnv, timeoutMs: 60_000 });
    expect(airdrop.code, airdrop.stderr).toBe(0);
    expect(JSON.parse(airdrop.stdout)).toMatchObject({ tokens: { amount: '25', signature: expect.any(String) } });
    const balance = await runCli(['wallet', 'balance', '--json'], { env: cliEnv });
    expect(balance.code, balance.stderr).toBe(0);
    expect(JSON.parse(balance.stdout)).toMatchObject({ symbol: 'tIOC', token: { amount: '25000000' } });

    const down = await runCli(['network', 'down', '--json'], { env, timeoutMs: 30_000 });
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout)).toMatchObject({ stopped: true, pid: info.pid });
    expect(processAlive(info.pid)).toBe(false);
    expect(existsSync(join(dataDir, 'network.json'))).toBe(false);

    const after = await runCli(['network', 'status', '--json'], { env });
    expect(JSON.parse(after.stdout)).toMatchObject({ running: false, coordinator: 'down', chain: 'down' });
  }, 180_000);
});
