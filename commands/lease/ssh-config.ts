// `iocli lease ssh-config ID`: a ready OpenSSH Host block whose ProxyCommand is `iocli lease connect`.
import type { CommandSpec } from '../spec.js';

export const leaseSshConfig: CommandSpec<{ port: string; user: string; node?: string; host?: string }> = {
  path: 'lease ssh-config',
  summary: "Print an OpenSSH Host block for a lease's sshd (ssh, scp, rsync, VS Code Remote-SSH)",
  description:
    'Print a Host block that reaches the sshd in the lease container through `iocli lease connect`. Append it to\n' +
    '~/.ssh/config, then `ssh iocli-ID`. The image must run sshd and accept your key.',
  args: ['<id>'],
  options: [
    { flags: '--port <port>', description: "sshd's port in the container", defaultValue: '22' },
    { flags: '--user <name>', description: 'login user', defaultValue: 'root' },
    { flags: '--host <alias>', description: 'Host alias (default iocli-ID)' },
    { flags: '--node <id>', description: 'the node of a multi-node lease (default: its first node)' },
  ],
  examples: ['iocli lease ssh-config lease_abc123 >> ~/.ssh/config && ssh iocli-lease_abc123', 'iocli lease ssh-config lease_abc123 --user ubuntu --port 2222 --json'],
  async run([id], options, ctx) {
    const { runLeaseSshConfig } = await import('./relay-run.js');
    return runLeaseSshConfig(id, options, ctx);
  },
};
