// `iocli lease exec ID [-i] [-t] -- CMD ARGS…`: run a command in the lease's container through the coordinator's relay.
import { UsageError } from '../../src/errors.js';
import type { Context } from '../context.js';
import type { CommandResult, CommandSpec } from '../spec.js';
import { requireLeaseId } from './lease-id.js';

export interface LeaseExecOptions {
  leaseId: string;
  command: string[];
  stdin: boolean;
  tty: boolean;
  node?: string;
}

export const leaseExec: CommandSpec<LeaseExecOptions> = {
  path: 'lease exec',
  summary: "Run a command in a lease's container (its exit code becomes iocli's)",
  description:
    "Run a command in the lease's container through the coordinator (the rig needs " +
    'no open port). stdout and stderr stay apart and are binary safe. -i sends ' +
    'standard input to the command; -t gives it a terminal (with window resize) ' +
    "when iocli runs on one. iocli exits with the command's exit code (127: command not found).",
  args: ['<id>', '<command...>'],
  options: [
    { flags: '-i, --stdin', description: "pass standard input to the command's stdin" },
    { flags: '-t, --tty', description: 'allocate a terminal (needs a terminal here; ignored otherwise)' },
    { flags: '--node <id>', description: 'the node of a multi-node lease (default: its first node)' },
  ],
  examples: [
    'iocli lease exec lease_abc123 -- nvidia-smi',
    'iocli lease exec lease_abc123 -- sh -c "ls -l /workspace; exit 3"; echo $?',
    'tar -cz data | iocli lease exec -i lease_abc123 -- tar -xz -C /workspace',
    'iocli lease exec -it lease_abc123 -- python',
    'iocli lease exec --node node_2 lease_abc123 -- hostname',
  ],
  parse({ args: [id, ...command], flags }) {
    if (command.length === 0) throw new UsageError('Give the command to run after --, e.g. `iocli lease exec ID -- ls -l /`.');
    return { leaseId: requireLeaseId(id), command, stdin: Boolean(flags.stdin), tty: Boolean(flags.tty), ...(flags.node !== undefined ? { node: String(flags.node) } : {}) };
  },
  run: runLeaseExec,
};

/** The command's exit code becomes iocli's. */
export async function runLeaseExec(options: LeaseExecOptions, ctx: Context): Promise<CommandResult> {
  const { execWithTerminal, relayTarget } = await import('./relay-access.js');
  const target = await relayTarget(ctx, options.leaseId, options.node);
  return { data: undefined, exitCode: await execWithTerminal(ctx, target, options.command, { stdin: options.stdin, tty: options.tty }) };
}
