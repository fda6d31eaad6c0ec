// `iocli lease port-forward ID LOCAL:REMOTE…`: local ports that reach the container's ports through the relay.
import { UsageError } from '../../src/errors.js';
import { parsePortPairs } from '../../src/renter/parse.js';
import type { Context } from '../context.js';
import type { CommandResult, CommandSpec } from '../spec.js';
import { requireLeaseId } from './lease-id.js';

export interface LeasePortForwardOptions {
  leaseId: string;
  pairs: Array<{ local: number; remote: number }>;
  address: string;
  node?: string;
  /** How often the lease's state is checked (ms). */
  leaseCheckMs: number;
}

export const leasePortForward: CommandSpec<LeasePortForwardOptions> = {
  path: 'lease port-forward',
  summary: "Forward local ports to a lease's container (Jupyter, TensorBoard, an API…)",
  description:
    'Listen on 127.0.0.1 (or --address) for each LOCAL:REMOTE pair; every connection is relayed through the ' +
    "coordinator to the container's port REMOTE. Runs until Ctrl-C or the lease ends. LOCAL 0 picks a free port; " +
    'with --json, one line with the listening addresses is printed once they listen.',
  args: ['<id>', '<ports...>'],
  options: [
    { flags: '--address <ip>', description: 'local address to listen on', defaultValue: '127.0.0.1' },
    { flags: '--node <id>', description: 'the node of a multi-node lease (default: its first node)' },
    { flags: '--lease-check <ms>', description: 'how often to check that the lease still runs', defaultValue: '5000', hidden: true },
  ],
  examples: ['iocli lease port-forward lease_abc123 8888:8888', 'iocli lease port-forward lease_abc123 6006 8080:80', 'iocli lease port-forward lease_abc123 0:8888 --json'],
  parse({ args: [id, ...ports], flags }) {
    const f = flags as { address: string; node?: string; leaseCheck?: string };
    const pairs = parsePortPairs(ports);
    if (!/^[0-9a-fA-F.:]+$|^localhost$/.test(f.address)) throw new UsageError(`Invalid --address "${f.address}": give an IP address.`);
    const leaseCheckMs = Number(f.leaseCheck) > 0 ? Number(f.leaseCheck) : 5_000;
    return { leaseId: requireLeaseId(id), pairs, address: f.address, ...(f.node !== undefined ? { node: f.node } : {}), leaseCheckMs };
  },
  run: runLeasePortForward,
};

/** Listens until Ctrl-C or the lease ends. */
export async function runLeasePortForward(options: LeasePortForwardOptions, ctx: Context): Promise<CommandResult> {
  const { relayTarget } = await import('./relay-access.js');
  const target = await relayTarget(ctx, options.leaseId, options.node);
  const api = await ctx.api();
  // Refuse at once (not at the first connection) when the lease is not the caller's or has ended.
  const lease = await api.lease(target.leaseId, { signal: ctx.signal });
  const { isTerminal } = await import('../../src/renter/format.js');
  if (isTerminal(lease.state)) throw new UsageError(`Lease ${target.leaseId} is ${lease.state}: nothing to forward to.`, { code: 'LEASE_NOT_ACTIVE' });
  const { startPortForward } = await import('../../src/renter/relay-client.js');
  const forward = await startPortForward({ ...target, pairs: options.pairs, address: options.address, onConnectionError: (error) => ctx.out.warn(error.message) });
  for (const l of forward.listeners) ctx.out.info(`Forwarding ${l.host}:${l.localPort} → lease ${target.leaseId} port ${l.remotePort}`);
  if (ctx.globals.json) ctx.out.raw(`${JSON.stringify({ leaseId: target.leaseId, listeners: forward.listeners })}\n`);
  ctx.out.info('Ctrl-C to stop.');
  const ended = await new Promise<string>((resolve) => {
    const onAbort = () => resolve('interrupted');
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const timer = setInterval(() => {
      api.lease(target.leaseId).then(
        (current) => {
          if (isTerminal(current.state)) {
            clearInterval(timer);
            resolve(`lease ${current.state}`);
          }
        },
        () => {},
      );
    }, options.leaseCheckMs);
    ctx.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  });
  await forward.close();
  ctx.out.info(`Stopped forwarding (${ended}).`);
  if (ctx.globals.json) ctx.out.raw(`${JSON.stringify({ leaseId: target.leaseId, stopped: ended })}\n`);
  return { data: undefined, exitCode: 0 };
}
