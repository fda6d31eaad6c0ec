// `iocli lease show ID`: one lease in full.
import type { CommandSpec } from '../spec.js';

export const leaseShow: CommandSpec = {
  path: 'lease show',
  summary: 'Show one lease: state, GPUs, node, price, time left, how to reach it',
  args: ['<id>'],
  examples: ['iocli lease show lease_abc123', 'iocli lease show lease_abc123 --json'],
  async run([id], _options, ctx) {
    const { runLeaseShow } = await import('./lease-run.js');
    return runLeaseShow(id!, ctx);
  },
};
