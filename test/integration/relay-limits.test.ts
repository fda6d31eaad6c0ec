// Relay limits: streams per lease are capped (the next one is refused with exit code 4, the open ones keep working) and
// a stream idle past the timeout is closed with a clear error rather than held forever.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDocker, ensureTestImage } from '../support/docker.js';
import { iocli, startRelayBench, type RelayBench } from '../support/relay.js';
import { waitFor } from '../support/wait.js';

const hasDocker = await ensureDocker();

describe.skipIf(!hasDocker)('relay stream limits and idle timeout', () => {
  let bench: RelayBench;
  let leaseId: string;

  beforeAll(async () => {
    const image = await ensureTestImage();
    bench = await startRelayBench('sqlite', { relayLimits: { perLease: 2, perRenter: 10, idleMs: 2_000 } });
    await bench.startAgent();
    leaseId = await bench.runningLease({ image, command: ['sleep', '600'] });
  }, 90_000);

  afterAll(async () => {
    await bench?.close();
  });

  it('refuses a stream past the per-lease limit; an idle stream is closed after the timeout', async () => {
    // Two silent streams fill the lease's quota.
    const first = iocli(['lease', 'exec', leaseId, '--', 'sleep', '30'], bench.env());
    const second = iocli(['lease', 'exec', leaseId, '--', 'sleep', '30'], bench.env());
    await waitFor('two open streams', () => bench.coordinator.server.relay.openStreams() === 2, { timeoutMs: 15_000 });
    const third = await iocli(['lease', 'exec', leaseId, '--', 'true'], bench.env());
    expect(third.code).toBe(4);
    expect(third.stderr.toString()).toMatch(/already has 2 open streams/);

    // Neither writes a byte: both are closed as idle within the timeout plus the check interval.
    const [a, b] = await Promise.all([first, second]);
    for (const result of [a, b]) {
      expect(result.code).toBe(1);
      expect(result.stderr.toString()).toMatch(/idle for 2 s/);
      expect(result.ms).toBeLessThan(15_000);
    }
    const after = await iocli(['lease', 'exec', leaseId, '--', 'echo', 'ok'], bench.env());
    expect(after.stdout.toString()).toBe('ok\n');
  }, 60_000);
});
