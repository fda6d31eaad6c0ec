// `iocli lease exec ID [-i] [-t] -- CMD ARGS…`: run a command in the lease's container through the coordinator's relay.
import type { CommandSpec } from '../spec.js';
import type { ExecFlags } from './relay-run.js';

export const leaseExec: CommandSpec<ExecFlags> = {
  path: 'lease exec',
  summary: "Run a command in a lease's container (its exit code becomes iocli's)",
  description:
    "Run a command in the lease's container, through the coordinator: the provider's rig needs no open port.\n" +
    'stdout and stderr stay apart and are binary safe; -i sends standard input to the command; -t gives it a terminal\n' +
    "(with window resize) when iocli runs on one. iocli exits with the command's exit code (127: command not found).",
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
  async run([id, ...command], options, ctx) {
    const { runLeaseExec } = await import('./relay-run.js');
    return runLeaseExec(id, command, options, ctx);
  },
};
