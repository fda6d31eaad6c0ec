// `iocli demo` end to end through the spawned binary: the whole loop on a throwaway local network with real containers,
// one JSON document on stdout, the step headers on stderr, and nothing left behind (folder, network, containers).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../support/cli.js';
import { docker, ensureDocker } from '../support/docker.js';

const hasDocker = await ensureDocker();

describe.skipIf(!hasDocker)('iocli demo (spawned binary, real Docker)', () => {
  it('provides, rents, refunds and rewards, then cleans up', async () => {
    const home = tempHome();
    try {
      const result = await runCli(['demo', '--gpus', '1', '--seconds', '1', '--json'], { env: home.env, timeoutMs: 180_000 });
      expect(result.code, result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout);
      expect(summary).toMatchObject({
        simulatedGpus: 1,
        lease: { id: expect.stringMatching(/^lease_/), paid: expect.any(Number) },
        refund: { refund: expect.any(Number) },
        balances: { renter: { sol: expect.any(Number) }, provider: { sol: expect.any(Number) }, treasury: { sol: expect.any(Number) } },
      });
      expect(summary.refund.refund).toBeGreaterThan(0);
      // --json: the steps are captured, the result is the one document; nothing but it on stdout.
      expect(result.stdout.trim().startsWith('{')).toBe(true);
      expect(existsSync(summary.dataDir)).toBe(false);
      const left = await docker(['ps', '-a', '-q', '--filter', `label=iocli.lease=${summary.lease.id}`]);
      expect(left.stdout.trim()).toBe('');
    } finally {
      home.cleanup();
    }
  }, 200_000);

  it('refuses bad flags before starting anything (exit 2)', async () => {
    const result = await runCli(['demo', '--gpus', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Invalid --gpus "0"/);
  });
});
