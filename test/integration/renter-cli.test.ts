// The real binary for the renter commands: help with examples, exit codes 2 and 4, JSON purity against a live coordinator.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeypair, writeKeypairFile } from '../../src/wallet/keypair.js';
import { runCli, tempHome } from '../support/cli.js';
import { nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

let coordinator: TestCoordinator;
const home = tempHome();
let env: Record<string, string>;

beforeAll(async () => {
  coordinator = await startTestCoordinator('sqlite');
  const keypairPath = join(home.dir, 'renter.json');
  await writeKeypairFile(keypairPath, generateKeypair());
  env = { ...home.env, IOCLI_API_URL: coordinator.url, IOCLI_KEYPAIR: keypairPath };
  await coordinator.client(generateKeypair()).registerNode(nodeSpec({ gpuCount: 1, pricePerGpuHour: 1_000_000 }));
});
afterAll(async () => {
  await coordinator?.close();
  home.cleanup();
});

describe('iocli renter commands (spawned)', () => {
  it.each([['rent'], ['offers'], ['leases'], ['lease', 'logs'], ['lease', 'stop'], ['rewards'], ['rewards', 'claim']])('%s --help shows examples', async (...words) => {
    const result = await runCli([...words, '--help'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Examples:\n\s+\$ iocli /);
  });

  it('rent without --yes in a script exits 2 naming --yes, having rented nothing', async () => {
    const result = await runCli(['rent', '--gpus', '1', '--image', 'busybox:latest'], { env });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^Error: Renting spends tokens and needs a confirmation/);
    expect(result.stderr).toMatch(/hint: Pass --yes/);
  });

  it('offers --json and a refused rent --json each print exactly one JSON document', async () => {
    const offers = await runCli(['offers', '--json'], { env });
    expect(offers.code).toBe(0);
    expect(JSON.parse(offers.stdout).offers).toHaveLength(1);

    const refused = await runCli(['rent', '--yes', '--gpus', '1', '--image', 'busybox:latest', '--max-price', '0.5', '--json'], { env });
    expect(refused.code).toBe(4);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'PRICE_ABOVE_MAX', exitCode: 4 });
  });
});
