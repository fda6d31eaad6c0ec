// `iocli lease ssh-config ID`: a ready OpenSSH Host block whose ProxyCommand is `iocli lease connect`.
import { UsageError } from '../../src/errors.js';
import type { Context } from '../context.js';
import type { CommandResult, CommandSpec } from '../spec.js';
import { requireLeaseId } from './lease-id.js';

export interface LeaseSshConfigOptions {
  leaseId: string;
  port: number;
  user: string;
  node?: string;
  host?: string;
}

export const leaseSshConfig: CommandSpec<LeaseSshConfigOptions> = {
  path: 'lease ssh-config',
  summary: "Print an OpenSSH Host block for a lease's sshd (ssh, scp, rsync, VS Code Remote-SSH)",
  description:
    'Print a Host block that reaches the sshd in the lease container through `iocli lease connect`. Append it to ' +
    '~/.ssh/config, then `ssh iocli-ID`. The image must run sshd and accept your key.',
  args: ['<id>'],
  options: [
    { flags: '--port <port>', description: "sshd's port in the container", defaultValue: '22' },
    { flags: '--user <name>', description: 'login user', defaultValue: 'root' },
    { flags: '--host <alias>', description: 'Host alias (default iocli-ID)' },
    { flags: '--node <id>', description: 'the node of a multi-node lease (default: its first node)' },
  ],
  examples: ['iocli lease ssh-config lease_abc123 >> ~/.ssh/config && ssh iocli-lease_abc123', 'iocli lease ssh-config lease_abc123 --user ubuntu --port 2222 --json'],
  parse({ args: [id], flags }) {
    const f = flags as { port: string; user: string; node?: string; host?: string };
    const leaseId = requireLeaseId(id);
    const port = Number(f.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`Invalid --port "${f.port}".`);
    if (!/^[a-z_][a-z0-9_-]{0,31}$/i.test(f.user)) throw new UsageError(`Invalid --user "${f.user}".`);
    return { leaseId, port, user: f.user, ...(f.node !== undefined ? { node: f.node } : {}), ...(f.host !== undefined ? { host: f.host } : {}) };
  },
  run: runLeaseSshConfig,
};

/** An OpenSSH Host block that reaches the lease's sshd through `iocli lease connect`. */
export async function runLeaseSshConfig({ leaseId, port, user, node, host }: LeaseSshConfigOptions, ctx: Context): Promise<CommandResult> {
  const settings = await ctx.settings();
  const alias = host ?? `iocli-${leaseId}${node ? `-${node}` : ''}`;
  const quote = (value: string) => (/^[A-Za-z0-9_./:@-]+$/.test(value) ? value : `"${value.replace(/(["\\$`])/g, '\\$1')}"`);
  const iocli = [process.execPath, process.argv[1] ?? 'iocli'].map(quote).join(' ');
  const globals = [
    ...(settings.apiUrl ? ['--api-url', quote(settings.apiUrl)] : []),
    ...(settings.keypair ? ['--keypair', quote(settings.keypair)] : []),
  ];
  const proxy = [iocli, ...globals, 'lease', 'connect', leaseId, String(port), ...(node ? ['--node', quote(node)] : [])].join(' ');
  const block = [
    `Host ${alias}`,
    `  User ${user}`,
    `  ProxyCommand ${proxy}`,
    // The container's host key changes with each lease; the alias is per lease, so pinning it per alias is right.
    '  StrictHostKeyChecking accept-new',
    `  UserKnownHostsFile ~/.ssh/known_hosts.iocli`,
    '  ServerAliveInterval 30',
  ].join('\n');
  return {
    data: { host: alias, user, port, proxyCommand: proxy, config: `${block}\n` },
    human: (r) => r.line(`${block}\n`),
  };
}
