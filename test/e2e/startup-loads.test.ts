// What the spawned binary loads to start. The networked reads run from the CommonJS bundle (dist/cli/, see
// scripts/bundle-cli.mjs): no ES module (Node's asynchronous ESM loader was ~15 % of their start-up), no package but
// commander and, to draw a table, cli-table3 (no zod, web3.js, chalk, undici…), and `--version` nothing but the entry. Timings are bench/startup.mjs's
// job; this pins down the loads that decide them, on a machine of any speed.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalChain, type LocalChain } from '../../src/chain/local-chain.js';
import { assertBuilt, runCli, tempHome } from '../support/cli.js';
import { startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TRACER = fileURLToPath(new URL('../fixtures/trace-loads.cjs', import.meta.url));
// cli-table3 and what it requires, loaded only when a table is drawn (`config list`; `offers` when there are offers).
const TABLE_PACKAGES = ['cli-table3', 'string-width', 'strip-ansi', 'ansi-regex', 'is-fullwidth-code-point', 'emoji-regex', '@colors/colors'];

interface Loads {
  /** Node's own modules (process.moduleLoadList). */
  builtins: string[];
  /** Files of this package that require() read, relative to the repository root. */
  ours: string[];
  /** Packages from node_modules. */
  packages: string[];
}

function packageOf(file: string): string {
  const path = file.slice(file.lastIndexOf('/node_modules/') + '/node_modules/'.length).split('/');
  return path[0]!.startsWith('@') ? `${path[0]}/${path[1]}` : path[0]!;
}

describe('what the binary loads to start (spawned binary)', () => {
  const home = tempHome();
  let chain: LocalChain;
  let coordinator: TestCoordinator;
  let env: Record<string, string>;
  let traces = 0;

  async function loadsOf(args: string[]): Promise<Loads> {
    const out = join(home.dir, `loads-${traces++}.json`);
    const result = await runCli(args, { env: { ...env, NODE_OPTIONS: `--require "${TRACER}"`, IOCLI_TRACE_LOADS: out } });
    expect(result.code, result.stderr).toBe(0);
    const { builtins, files } = JSON.parse(readFileSync(out, 'utf8')) as { builtins: string[]; files: string[] };
    const loaded = files.filter((file) => file !== TRACER);
    return {
      builtins,
      ours: loaded.filter((file) => !file.includes('/node_modules/')).map((file) => relative(ROOT, file)),
      packages: [...new Set(loaded.filter((file) => file.includes('/node_modules/')).map(packageOf))],
    };
  }

  beforeAll(async () => {
    assertBuilt();
    chain = await startLocalChain({ dataDir: join(home.dir, 'chain') });
    coordinator = await startTestCoordinator('sqlite', { network: { rpcUrl: chain.rpcUrl, cluster: 'localnet' } });
    env = { ...home.env, IOCLI_API_URL: coordinator.url };
    const wallet = await runCli(['wallet', 'new', '--json'], { env });
    expect(wallet.code, wallet.stderr).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await coordinator?.close();
    await chain?.close();
    home.cleanup();
  });

  it('--version reads only the entry point', async () => {
    const loads = await loadsOf(['--version']);
    expect(loads.ours).toEqual(['bin/iocli.js', 'dist/cli/main.cjs']);
    expect(loads.packages).toEqual([]);
  });

  it.each([[['offers']], [['leases']], [['wallet', 'balance']], [['config', 'list']]])(
    '%j runs from the bundle: no ES module, no package but commander (and cli-table3 for a table)',
    async (args) => {
      const loads = await loadsOf(args);
      expect(loads.ours.length).toBeGreaterThan(2);
      for (const file of loads.ours) expect(file).toMatch(/^(bin\/iocli\.js|dist\/cli\/[^/]+\.cjs)$/);
      expect(loads.packages).toContain('commander');
      for (const name of loads.packages) expect(['commander', ...TABLE_PACKAGES]).toContain(name);
      // An ES module anywhere (an ESM-only package, or tsc's dist/ instead of the bundle) would have created a module job.
      expect(loads.builtins).not.toContain('internal/modules/esm/module_job');
      // The global fetch boots undici (~170 ms): the coordinator and RPC reads use node:http (src/http/light-fetch.ts).
      expect(loads.builtins).not.toContain('internal/deps/undici/undici');
    },
    30_000,
  );
});
