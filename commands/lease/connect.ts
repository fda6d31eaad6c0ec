// `iocli lease connect ID PORT`: standard input/output ↔ a port of the container (an OpenSSH ProxyCommand).
import { UsageError } from '../../src/errors.js';
import type { Context } from '../context.js';
import type { CommandResult, CommandSpec } from '../spec.js';
import { requireLeaseId } from './lease-id.js';

export interface LeaseConnectOptions {
  leaseId: string;
  port: number;
  node?: string;
}

export const leaseConnect: CommandSpec<LeaseConnectOptions> = {
  path: 'lease connect',
  summary: "Join standard input/output to a port of a lease's container (ssh ProxyCommand)",
  description:
    "Relay standard input to the container's PORT and the port's bytes to standard output, through the coordinator, " +
    'until either side closes. Made for OpenSSH: ProxyCommand iocli lease connect ID 22 (see `iocli lease ssh-config`).',
  args: ['<id>', '<port>'],
  options: [{ flags: '--node <id>', description: 'the node of a multi-node lease (default: its first node)' }],
  examples: ['ssh -o ProxyCommand="iocli lease connect lease_abc123 22" root@lease', 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | iocli lease connect lease_abc123 8080'],
  parse({ args: [id, port], flags }) {
    const remote = Number(port);
    if (!Number.isInteger(remote) || remote < 1 || remote > 65535) throw new UsageError(`Invalid port "${port ?? ''}": give the container's port, 1-65535.`);
    return { leaseId: requireLeaseId(id), port: remote, ...(flags.node !== undefined ? { node: String(flags.node) } : {}) };
  },
  run: runLeaseConnect,
};

export async function runLeaseConnect(options: LeaseConnectOptions, ctx: Context): Promise<CommandResult> {
  const { relayTarget } = await import('./relay-access.js');
  const target = await relayTarget(ctx, options.leaseId, options.node);
  const { pipePort } = await import('../../src/renter/relay-client.js');
  try {
    await pipePort({ ...target, port: options.port, input: process.stdin, output: process.stdout, signal: ctx.signal });
  } finally {
    process.stdin.pause();
    process.stdin.unref?.();
  }
  return { data: undefined, exitCode: 0 };
}
