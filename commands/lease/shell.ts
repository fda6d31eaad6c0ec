// `iocli lease shell ID`: an interactive shell (bash, else sh) in the lease's container.
import type { Context } from '../context.js';
import type { CommandResult, CommandSpec } from '../spec.js';
import { requireLeaseId } from './lease-id.js';

export interface LeaseShellOptions {
  leaseId: string;
  node?: string;
}

export const leaseShell: CommandSpec<LeaseShellOptions> = {
  path: 'lease shell',
  summary: "Open an interactive shell in a lease's container (bash, else sh)",
  description: "Open a shell in the lease's container through the coordinator, with a terminal when iocli runs on one. Exit the shell (exit, Ctrl-D) to return; iocli exits with the shell's exit code.",
  args: ['<id>'],
  options: [{ flags: '--node <id>', description: 'the node of a multi-node lease (default: its first node)' }],
  examples: ['iocli lease shell lease_abc123', 'iocli lease shell lease_abc123 --node node_2'],
  parse: ({ args: [id], flags }) => ({ leaseId: requireLeaseId(id), ...(flags.node !== undefined ? { node: String(flags.node) } : {}) }),
  run: runLeaseShell,
};

/** bash when the image has it, else sh; a TTY when this is a terminal. */
export async function runLeaseShell(options: LeaseShellOptions, ctx: Context): Promise<CommandResult> {
  const { execWithTerminal, relayTarget } = await import('./relay-access.js');
  const target = await relayTarget(ctx, options.leaseId, options.node);
  const command = ['sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi'];
  return { data: undefined, exitCode: await execWithTerminal(ctx, target, command, { stdin: true, tty: Boolean(process.stdin.isTTY) }) };
}
