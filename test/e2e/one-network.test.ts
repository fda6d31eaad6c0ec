// One way to learn the network, through the spawned binary: when the profile's RPC and the chain the coordinator announces
// differ, `wallet airdrop` funds the coordinator's chain (where payments happen) and `wallet balance` reads the same one.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalChain, type LocalChain } from '../../src/chain/local-chain.js';
import { rpcCall } from '../../src/wallet/rpc.js';
import { assertBuilt, runCli, tempHome } from '../support/cli.js';
import { startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

describe('one network for every command (spawned binary)', () => {
  const home = tempHome();
  let announced: LocalChain;
  let profileChain: LocalChain;
  let coordinator: TestCoordinator;
  let env: Record<string, string>;

  beforeAll(async () => {
    assertBuilt();
    announced = await startLocalChain({ dataDir: join(home.dir, 'chain-announced') });
    profileChain = await startLocalChain({ dataDir: join(home.dir, 'chain-profile') });
    coordinator = await startTestCoordinator('sqlite', { network: { rpcUrl: announced.rpcUrl, cluster: 'localnet' } });
    env = { ...home.env, IOCLI_API_URL: coordinator.url };
    // The profile points at another chain than the one the coordinator announces.
    const set = await runCli(['config', 'set', 'rpc-url', profileChain.rpcUrl], { env });
    expect(set.code, set.stderr).toBe(0);
    expect((await runCli(['wallet', 'new', '--json'], { env })).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await coordinator?.close();
    await announced?.close();
    await profileChain?.close();
    home.cleanup();
  });

  it('airdrops to, and reads the balance from, the chain the coordinator announces', async () => {
    const airdrop = await runCli(['wallet', 'airdrop', '--sol', '2', '--json'], { env });
    expect(airdrop.code, airdrop.stderr).toBe(0);
    const funded = JSON.parse(airdrop.stdout) as { address: string; rpcUrl: string };
    expect(funded.rpcUrl).toBe(announced.rpcUrl);

    const balance = await runCli(['wallet', 'balance', '--json'], { env });
    expect(balance.code, balance.stderr).toBe(0);
    expect(JSON.parse(balance.stdout)).toMatchObject({ rpcUrl: announced.rpcUrl, sol: 2 });

    // On the chains themselves: the announced one holds the SOL, the profile's never saw the airdrop.
    const lamports = async (chain: LocalChain) => (await rpcCall<{ value: number }>(chain.rpcUrl, 'getBalance', [funded.address, { commitment: 'confirmed' }])).value;
    expect(await lamports(announced)).toBe(2_000_000_000);
    expect(await lamports(profileChain)).toBe(0);
  }, 60_000);

  it('an explicit --url still wins, for both', async () => {
    const airdrop = await runCli(['wallet', 'airdrop', '--sol', '1', '--json', '--url', profileChain.rpcUrl], { env });
    expect(airdrop.code, airdrop.stderr).toBe(0);
    expect(JSON.parse(airdrop.stdout).rpcUrl).toBe(profileChain.rpcUrl);
    const balance = await runCli(['wallet', 'balance', '--json', '--url', profileChain.rpcUrl], { env });
    expect(JSON.parse(balance.stdout)).toMatchObject({ rpcUrl: profileChain.rpcUrl, sol: 1 });
  }, 60_000);
});
