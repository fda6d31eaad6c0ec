// `iocli lease shell ID`: an interactive shell (bash, else sh) in the lease's container.
import type { CommandSpec } from '../spec.js';

export const leaseShell: CommandSpec<{ node?: string }> = {
  path: 'lease shell',
  summary: "Open an interactive shell in a lease's container (bash, else sh)",
  description: "Open a shell in the lease's container through the coordinator, with a terminal when iocli runs on one.\nExit the shell (exit, Ctrl-D) to return; iocli exits with the shell's exit code.",
  args: ['<id>'],
  options: [{ flags: '--node <id>', description: 'the node of a multi-node lease (default: its first node)' }],
  examples: ['iocli lease shell lease_abc123', 'iocli lease shell lease_abc123 --node node_2'],
  async run([id], options, ctx) {
    const { runLeaseShell } = await import('./relay-run.js');
    return runLeaseShell(id, options, ctx);
  },
};
