// `iocli lease stop ID`: end a lease early; the unused time is refunded.
import type { CommandSpec } from '../spec.js';

export const leaseStop: CommandSpec = {
  path: 'lease stop',
  summary: 'Stop a lease now and get the unused time refunded',
  description: 'Stop the container and end the lease. The unused share of what you paid is refunded (used time is rounded up to the minute).',
  args: ['<id>'],
  examples: ['iocli lease stop lease_abc123', 'iocli lease stop lease_abc123 --yes --json'],
  async run([id], _options, ctx) {
    const { runLeaseStop } = await import('./lease-run.js');
    return runLeaseStop(id!, ctx);
  },
};
