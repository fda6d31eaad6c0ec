// `iocli lease port-forward ID LOCAL:REMOTE…`: local ports that reach the container's ports through the relay.
import type { CommandSpec } from '../spec.js';
import type { PortForwardFlags } from './relay-run.js';

export const leasePortForward: CommandSpec<PortForwardFlags> = {
  path: 'lease port-forward',
  summary: "Forward local ports to a lease's container (Jupyter, TensorBoard, an API…)",
  description:
    'Listen on 127.0.0.1 (or --address) for each LOCAL:REMOTE pair; every connection is relayed through the\n' +
    "coordinator to the container's port REMOTE. Runs until Ctrl-C or the lease ends. LOCAL 0 picks a free port;\n" +
    'with --json, one line with the listening addresses is printed once they listen.',
  args: ['<id>', '<ports...>'],
  options: [
    { flags: '--address <ip>', description: 'local address to listen on', defaultValue: '127.0.0.1' },
    { flags: '--node <id>', description: 'the node of a multi-node lease (default: its first node)' },
    { flags: '--lease-check <ms>', description: 'how often to check that the lease still runs', defaultValue: '5000', hidden: true },
  ],
  examples: ['iocli lease port-forward lease_abc123 8888:8888', 'iocli lease port-forward lease_abc123 6006 8080:80', 'iocli lease port-forward lease_abc123 0:8888 --json'],
  async run([id, ...ports], options, ctx) {
    const { runLeasePortForward } = await import('./relay-run.js');
    return runLeasePortForward(id, ports, options, ctx);
  },
};
