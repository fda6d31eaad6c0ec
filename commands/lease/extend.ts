// `iocli lease extend ID --hours H`: pay for more hours on a running lease.
import type { CommandSpec } from '../spec.js';

export interface LeaseExtendOptions {
  hours?: string;
  dryRun?: boolean;
  idempotencyKey?: string;
}

export const leaseExtend: CommandSpec<LeaseExtendOptions> = {
  path: 'lease extend',
  summary: 'Add hours to an active lease (pays for them like rent does)',
  description:
    "Extend an active lease by whole hours at the lease's price. Shows the cost and asks to confirm (--yes skips),\n" +
    'then pays from your wallet. A retry with the same --idempotency-key never pays twice.',
  args: ['<id>'],
  options: [
    { flags: '--hours <h>', description: 'hours to add (whole hours)' },
    { flags: '--dry-run', description: 'show the cost and build the payment, but send nothing' },
    { flags: '--idempotency-key <key>', description: 'reuse a key from an earlier attempt so a retry never pays twice' },
  ],
  examples: ['iocli lease extend lease_abc123 --hours 2', 'iocli lease extend lease_abc123 --hours 1 --yes --json'],
  async run([id], options, ctx) {
    const { runLeaseExtend } = await import('./lease-run.js');
    return runLeaseExtend(id!, options, ctx);
  },
};
