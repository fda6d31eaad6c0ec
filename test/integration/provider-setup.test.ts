// First-run setup of `iocli provide` on a TTY (a scripted prompter): wallet, price with the catalogue suggestion, region —
// saved to the config. Real Docker for the preflight; the agent is started with an already-aborted signal.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { provide, runProvide } from '../../commands/provide/start.js';
import { Output } from '../../commands/output.js';
import type { Context } from '../../commands/context.js';
import type { Prompter } from '../../commands/prompts.js';
import { readStoredSettings } from '../../src/settings/store.js';
import { resolveSettings } from '../../src/settings/resolve.js';
import { loadKeypairFile } from '../../src/wallet/keypair.js';
import { ensureDocker } from '../support/docker.js';

const hasDocker = await ensureDocker();

function sink() {
  let text = '';
  return { write: (chunk: string) => ((text += chunk), true), text: () => text };
}

describe.skipIf(!hasDocker)('iocli provide first-run setup', () => {
  it('asks for wallet, price (suggesting the catalogue price) and region, and saves them', async () => {
    const home = await mkdtemp(join(tmpdir(), 'iocli-setup-'));
    try {
      const configDir = join(home, 'config');
      const keypairPath = join(home, 'id.json');
      const asked: string[] = [];
      const prompter: Prompter = {
        interactive: true,
        confirm: async (message, { flag }) => (asked.push(`confirm ${flag}: ${message}`), true),
        input: async (message, { flag, default: initial }) => {
          asked.push(`input ${flag} [${initial}]: ${message}`);
          return flag === '--price' ? '2.5' : 'eu-west';
        },
        select: async () => {
          throw new Error('not expected');
        },
        checkbox: async () => {
          throw new Error('not expected');
        },
      };
      const stderr = sink();
      const stdout = sink();
      const aborted = new AbortController();
      aborted.abort();
      const ctx: Context = {
        globals: { json: false, yes: false, quiet: false, color: false },
        out: new Output({ json: false, quiet: false, color: false, stdout, stderr }),
        prompter,
        env: {},
        signal: aborted.signal,
        settings: async () => resolveSettings({ stored: readStoredSettings(configDir), env: {}, flags: {}, configDir }),
        keypairPath: async () => keypairPath,
        keypair: () => loadKeypairFile(keypairPath),
        api: async () => {
          const { createApiClient } = await import('../../src/api/client.js');
          return createApiClient({ baseUrl: 'http://127.0.0.1:9', keypair: await loadKeypairFile(keypairPath) });
        },
        apiUrl: async () => 'http://127.0.0.1:9',
        network: async () => {
          throw new Error('not expected');
        },
        containers: async () => (await import('../../src/docker/runtime.js')).createDockerRuntime(),
        now: Date.now,
      };
      const options = provide.parse({ args: [], flags: { simulateGpus: '2:H100', dataDir: join(home, 'provider') }, globals: {}, env: {} });
      const result = await runProvide(options, ctx);
      expect(asked).toEqual([
        expect.stringMatching(/^confirm --keypair: No wallet/),
        'input --price [2]: Price per GPU-hour in tokens (catalogue suggestion 2):',
        expect.stringMatching(/^input --region/),
      ]);
      expect(existsSync(keypairPath)).toBe(true);
      expect(readStoredSettings(configDir)).toMatchObject({ shareGpus: 'all', pricePerGpuHour: '2.5', region: 'eu-west' });
      expect(result.data).toMatchObject({ simulated: true, nodeId: null, gpus: [{ model: 'H100-SXM-80GB' }, { model: 'H100-SXM-80GB' }] });
      expect(stderr.text()).toMatch(/SIMULATED GPUs: 2 × H100-SXM-80GB/);

      // Second run: nothing is asked any more.
      asked.length = 0;
      await runProvide(options, ctx);
      expect(asked).toEqual([]);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }, 60_000);
});
