// `iocli lease connect ID PORT`: standard input/output ↔ a port of the container (an OpenSSH ProxyCommand).
import type { CommandSpec } from '../spec.js';

export const leaseConnect: CommandSpec<{ node?: string }> = {
  path: 'lease connect',
  summary: "Join standard input/output to a port of a lease's container (ssh ProxyCommand)",
  description:
    "Relay standard input to the container's PORT and the port's bytes to standard output, through the coordinator,\n" +
    'until either side closes. Made for OpenSSH: ProxyCommand iocli lease connect ID 22 (see `iocli lease ssh-config`).',
  args: ['<id>', '<port>'],
  options: [{ flags: '--node <id>', description: 'the node of a multi-node lease (default: its first node)' }],
  examples: ['ssh -o ProxyCommand="iocli lease connect lease_abc123 22" root@lease', 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | iocli lease connect lease_abc123 8080'],
  async run([id, port], options, ctx) {
    const { runLeaseConnect } = await import('./relay-run.js');
    return runLeaseConnect(id, port, options, ctx);
  },
};
