// `iocli leases`: your leases, active ones unless --all.
import type { CommandSpec } from './spec.js';

export const leases: CommandSpec<{ all?: boolean }> = {
  path: 'leases',
  summary: 'List your leases (active ones; --all for every lease)',
  options: [{ flags: '-a, --all', description: 'include completed, stopped and failed leases' }],
  examples: ['iocli leases', 'iocli leases --all --json'],
  async run(_args, options, ctx) {
    const { runLeases } = await import('./lease/lease-run.js');
    return runLeases(options, ctx);
  },
};
