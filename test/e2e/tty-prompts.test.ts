// Prompts appear only on a real terminal: run the binary on a pseudo-terminal (util-linux `script`) and answer them.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeKeypairFile } from '../../src/wallet/keypair.js';
import { assertBuilt, BIN, runCli, tempHome } from '../support/cli.js';
import { newKeypair, nodeSpec, startTestCoordinator } from '../support/coordinator.js';

const hasScript = spawnSync('script', ['--version']).status === 0;
const home = tempHome();
afterAll(() => home.cleanup());

/** Runs `iocli …args` on a pty; types `answer` once `prompt` shows up. Resolves with the exit code and what the terminal showed. */
function onTerminal(args: string[], prompt: RegExp, answer: string, columns = 120): Promise<{ code: number; screen: string }> {
  assertBuilt();
  const command = [process.execPath, BIN, ...args].map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    // Not CI: that alone would make iocli treat the terminal as non-interactive.
    const env: NodeJS.ProcessEnv = { ...process.env, ...home.env, NO_COLOR: '1' };
    delete env.CI;
    // script's own pty has 0 columns (some CI runners' terminals too); most tests give it a real size.
    const child = spawn('script', ['-qfec', `stty cols ${columns} rows 40; exec ${command}`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    let answered = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit within 20 s; screen:\n${screen}`));
    }, 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      screen += chunk.toString();
      if (!answered && prompt.test(screen)) {
        answered = true;
        child.stdin.write(answer);
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code: code ?? -1, screen });
    });
  });
}

describe.skipIf(!hasScript)('prompts on a terminal', () => {
  it('asks before resetting all settings; "n" cancels with exit 130 and keeps them', async () => {
    expect((await runCli(['config', 'set', 'region', 'us-east'], { env: home.env })).code).toBe(0);
    const declined = await onTerminal(['config', 'reset'], /\(y\/N\)/, 'n\r');
    expect(declined.code).toBe(130);
    expect(declined.screen).toContain('Reset all iocli settings');
    expect(declined.screen).toContain('Nothing was reset.');
    expect(JSON.parse((await runCli(['config', 'get', 'region', '--json'], { env: home.env })).stdout).value).toBe('us-east');
  });

  it('a terminal that reports 0 columns still gets to the prompt (no spinner that redraws forever)', async () => {
    const coordinator = await startTestCoordinator('sqlite');
    try {
      const provider = newKeypair();
      const node = await coordinator.client(provider).registerNode(nodeSpec({ gpuCount: 1, model: 'NVIDIA H100 80GB HBM3' }));
      await coordinator.client(provider).heartbeat(node.id, { gpus: [], containers: [] });
      const keypairPath = join(home.dir, 'narrow.json');
      await writeKeypairFile(keypairPath, newKeypair());
      const rent = ['rent', '--api-url', coordinator.url, '--keypair', keypairPath, '--gpus', '1', '--model', 'H100', '--image', 'busybox', '--hours', '1'];
      const declined = await onTerminal(rent, /start the lease\? \(y\/N\)/, 'n\r', 0);
      expect(declined.code).toBe(130);
      expect(declined.screen.length).toBeLessThan(20_000);
    } finally {
      await coordinator.close();
    }
  });

  it('"y" confirms and resets', async () => {
    const confirmed = await onTerminal(['config', 'reset'], /\(y\/N\)/, 'y\r');
    expect(confirmed.code).toBe(0);
    expect(JSON.parse((await runCli(['config', 'get', 'region', '--json'], { env: home.env })).stdout).value).toBeNull();
  });

  it.each([
    ['answered "n"', 'n\r', 'declined'],
    ['cancelled with Ctrl-C', '\x03', 'interrupted'],
  ])('`rent` %s releases its quote: the GPUs are on offer again at once, not when the quote lapses', async (_how, answer, wallet) => {
    const coordinator = await startTestCoordinator('sqlite');
    try {
      const provider = newKeypair();
      const node = await coordinator.client(provider).registerNode(nodeSpec({ gpuCount: 2, model: 'NVIDIA H100 80GB HBM3' }));
      await coordinator.client(provider).heartbeat(node.id, { gpus: [], containers: [] });
      const keypairPath = join(home.dir, `${wallet}.json`);
      await writeKeypairFile(keypairPath, newKeypair());
      const rent = ['rent', '--api-url', coordinator.url, '--keypair', keypairPath, '--gpus', '2', '--model', 'H100', '--image', 'busybox', '--hours', '1'];
      const declined = await onTerminal(rent, /start the lease\? \(y\/N\)/, answer);
      expect(declined.code).toBe(130);
      // The quote would hold both GPUs for minutes; released, they are free as soon as the command has exited.
      expect((await coordinator.client().offers({ model: 'H100' })).offers).toEqual([expect.objectContaining({ nodeId: node.id, freeGpus: 2 })]);
    } finally {
      await coordinator.close();
    }
  });

  it('never prompts when --json is given, even on a terminal', async () => {
    const result = await onTerminal(['config', 'reset', '--json'], /\(y\/N\)/, 'y\r');
    expect(result.code).toBe(2);
    expect(result.screen).not.toContain('(y/N)');
  });
});
