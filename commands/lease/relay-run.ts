// The work behind `iocli lease exec|shell|port-forward|connect|cp|ssh-config`: every one is a client of the relay
// (src/renter/relay-client.ts). Loaded only when one of them runs.
import { UsageError } from '../../src/errors.js';
import type { RelayTarget } from '../../src/renter/relay-client.js';
import { requireLeaseId } from './lease-id.js';
import type { Context } from '../context.js';
import type { CommandResult } from '../spec.js';


async function relayTarget(ctx: Context, leaseId: string, node: string | undefined): Promise<RelayTarget> {
  // The URL alone, not the API client: these commands speak WebSocket only, and a renter's `lease exec` starts faster.
  // Streams go to the first configured coordinator (a replica forwards them to the one holding the agent).
  const [apiUrl, keypair, { coordinatorUrls }] = await Promise.all([ctx.apiUrl(), ctx.keypair(), import('../../src/api/coordinator-urls.js')]);
  return { apiUrl: coordinatorUrls(apiUrl)[0]!, keypair, leaseId: requireLeaseId(leaseId), node };
}

export interface ExecFlags {
  stdin?: boolean;
  tty?: boolean;
  node?: string;
}

/** `lease exec`: the command's exit code becomes iocli's. */
export async function runLeaseExec(id: string | undefined, command: string[], flags: ExecFlags, ctx: Context): Promise<CommandResult> {
  if (command.length === 0) throw new UsageError('Give the command to run after --, e.g. `iocli lease exec ID -- ls -l /`.');
  const target = await relayTarget(ctx, id ?? '', flags.node);
  return { data: undefined, exitCode: await execWithTerminal(ctx, target, command, { stdin: Boolean(flags.stdin), tty: Boolean(flags.tty) }) };
}

/** `lease shell`: bash when the image has it, else sh; a TTY when this is a terminal. */
export async function runLeaseShell(id: string | undefined, flags: { node?: string }, ctx: Context): Promise<CommandResult> {
  const target = await relayTarget(ctx, id ?? '', flags.node);
  const command = ['sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi'];
  return { data: undefined, exitCode: await execWithTerminal(ctx, target, command, { stdin: true, tty: Boolean(process.stdin.isTTY) }) };
}

async function execWithTerminal(ctx: Context, target: RelayTarget, command: string[], mode: { stdin: boolean; tty: boolean }): Promise<number> {
  const { execInLease } = await import('../../src/renter/relay-client.js');
  const stdin = process.stdin;
  const stdout = process.stdout;
  // A TTY needs both ends to be terminals; otherwise -t is ignored (as kubectl does) so scripts keep working.
  const tty = mode.tty && Boolean(stdin.isTTY) && Boolean(stdout.isTTY);
  if (mode.tty && !tty) ctx.out.warn('-t ignored: standard input and output are not both a terminal.');
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  if (tty) stdin.setRawMode(true);
  try {
    return await execInLease({
      ...target,
      command,
      tty,
      stdin: mode.stdin ? stdin : undefined,
      stdout,
      stderr: process.stderr,
      size: tty ? { cols: stdout.columns, rows: stdout.rows } : undefined,
      onResize: (listener) => {
        const onResize = () => listener({ cols: stdout.columns, rows: stdout.rows });
        stdout.on('resize', onResize);
        return () => stdout.off('resize', onResize);
      },
      signal: ctx.signal,
    });
  } finally {
    if (tty) stdin.setRawMode(wasRaw);
    // Reading stdin keeps the process alive; the command is over.
    stdin.pause();
    stdin.unref?.();
  }
}

/** LOCAL:REMOTE, or REMOTE alone (the same port locally; 0 locally for any free port). */
export function parsePortPairs(specs: string[]): Array<{ local: number; remote: number }> {
  if (specs.length === 0) throw new UsageError('Give at least one port pair, e.g. 8888:8888 (LOCAL:REMOTE).');
  return specs.map((spec) => {
    const match = /^(?:(\d{1,5}):)?(\d{1,5})$/.exec(spec);
    const local = match ? Number(match[1] ?? match[2]) : NaN;
    const remote = match ? Number(match[2]) : NaN;
    if (!match || local > 65535 || remote < 1 || remote > 65535) {
      throw new UsageError(`Invalid port pair "${spec}": use LOCAL:REMOTE (e.g. 8888:8888) or REMOTE.`);
    }
    return { local, remote };
  });
}

export interface PortForwardFlags {
  address: string;
  node?: string;
  /** How often the lease's state is checked (ms). */
  leaseCheck: string;
}

/** `lease port-forward`: listens until Ctrl-C or the lease ends. */
export async function runLeasePortForward(id: string | undefined, pairs: string[], flags: PortForwardFlags, ctx: Context): Promise<CommandResult> {
  const parsed = parsePortPairs(pairs);
  if (!/^[0-9a-fA-F.:]+$|^localhost$/.test(flags.address)) throw new UsageError(`Invalid --address "${flags.address}": give an IP address.`);
  const target = await relayTarget(ctx, id ?? '', flags.node);
  const api = await ctx.api();
  // Refuse at once (not at the first connection) when the lease is not the caller's or has ended.
  const lease = await api.lease(target.leaseId, { signal: ctx.signal });
  const { isTerminal } = await import('../../src/renter/format.js');
  if (isTerminal(lease.state)) throw new UsageError(`Lease ${target.leaseId} is ${lease.state}: nothing to forward to.`, { code: 'LEASE_NOT_ACTIVE' });
  const { startPortForward } = await import('../../src/renter/relay-client.js');
  const forward = await startPortForward({ ...target, pairs: parsed, address: flags.address, onConnectionError: (error) => ctx.out.warn(error.message) });
  for (const l of forward.listeners) ctx.out.info(`Forwarding ${l.host}:${l.localPort} → lease ${target.leaseId} port ${l.remotePort}`);
  if (ctx.globals.json) ctx.out.raw(`${JSON.stringify({ leaseId: target.leaseId, listeners: forward.listeners })}\n`);
  ctx.out.info('Ctrl-C to stop.');
  const ended = await new Promise<string>((resolve) => {
    const onAbort = () => resolve('interrupted');
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const interval = Number(flags.leaseCheck) > 0 ? Number(flags.leaseCheck) : 5_000;
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
    }, interval);
    ctx.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  });
  await forward.close();
  ctx.out.info(`Stopped forwarding (${ended}).`);
  if (ctx.globals.json) ctx.out.raw(`${JSON.stringify({ leaseId: target.leaseId, stopped: ended })}\n`);
  return { data: undefined, exitCode: 0 };
}

/** `lease connect`: stdin/stdout ↔ a port of the container (an OpenSSH ProxyCommand). */
export async function runLeaseConnect(id: string | undefined, port: string | undefined, flags: { node?: string }, ctx: Context): Promise<CommandResult> {
  const remote = Number(port);
  if (!Number.isInteger(remote) || remote < 1 || remote > 65535) throw new UsageError(`Invalid port "${port ?? ''}": give the container's port, 1-65535.`);
  const target = await relayTarget(ctx, id ?? '', flags.node);
  const { pipePort } = await import('../../src/renter/relay-client.js');
  try {
    await pipePort({ ...target, port: remote, input: process.stdin, output: process.stdout, signal: ctx.signal });
  } finally {
    process.stdin.pause();
    process.stdin.unref?.();
  }
  return { data: undefined, exitCode: 0 };
}

/** `lease ssh-config`: an OpenSSH Host block that reaches the lease's sshd through `iocli lease connect`. */
export async function runLeaseSshConfig(id: string | undefined, flags: { port: string; user: string; node?: string; host?: string }, ctx: Context): Promise<CommandResult> {
  const leaseId = requireLeaseId(id);
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`Invalid --port "${flags.port}".`);
  if (!/^[a-z_][a-z0-9_-]{0,31}$/i.test(flags.user)) throw new UsageError(`Invalid --user "${flags.user}".`);
  const settings = await ctx.settings();
  const alias = flags.host ?? `iocli-${leaseId}${flags.node ? `-${flags.node}` : ''}`;
  const quote = (value: string) => (/^[A-Za-z0-9_./:@-]+$/.test(value) ? value : `"${value.replace(/(["\\$`])/g, '\\$1')}"`);
  const iocli = [process.execPath, process.argv[1] ?? 'iocli'].map(quote).join(' ');
  const globals = [
    ...(settings.apiUrl ? ['--api-url', quote(settings.apiUrl)] : []),
    ...(settings.keypair ? ['--keypair', quote(settings.keypair)] : []),
  ];
  const proxy = [iocli, ...globals, 'lease', 'connect', leaseId, String(port), ...(flags.node ? ['--node', quote(flags.node)] : [])].join(' ');
  const block = [
    `Host ${alias}`,
    `  User ${flags.user}`,
    `  ProxyCommand ${proxy}`,
    // The container's host key changes with each lease; the alias is per lease, so pinning it per alias is right.
    '  StrictHostKeyChecking accept-new',
    `  UserKnownHostsFile ~/.ssh/known_hosts.iocli`,
    '  ServerAliveInterval 30',
  ].join('\n');
  return {
    data: { host: alias, user: flags.user, port, proxyCommand: proxy, config: `${block}\n` },
    human: (r) => r.line(`${block}\n`),
  };
}

export interface CpFlags {
  node?: string;
  progress?: boolean;
}

/** `lease cp SRC DST`, one side `ID:/path`: SRC (file or directory) is copied into the directory DST, modes kept. */
export async function runLeaseCp(src: string | undefined, dst: string | undefined, flags: CpFlags, ctx: Context): Promise<CommandResult> {
  const { parseCpEndpoints, copyToLease, copyFromLease } = await import('../../src/renter/lease-copy.js');
  const endpoints = parseCpEndpoints(src ?? '', dst ?? '');
  const target = await relayTarget(ctx, endpoints.leaseId, flags.node);
  const showProgress = flags.progress !== false && !ctx.globals.quiet && !ctx.globals.json && Boolean(process.stderr.isTTY);
  let lastDraw = 0;
  const onProgress = (bytes: number) => {
    if (!showProgress || Date.now() - lastDraw < 200) return;
    lastDraw = Date.now();
    process.stderr.write(`\r${(bytes / 1024 / 1024).toFixed(1)} MB transferred`);
  };
  const result =
    endpoints.direction === 'upload'
      ? await copyToLease({ ...target, localPath: endpoints.localPath, remoteDir: endpoints.remotePath, onProgress, signal: ctx.signal })
      : await copyFromLease({ ...target, remotePath: endpoints.remotePath, localDir: endpoints.localPath, onProgress, signal: ctx.signal });
  if (showProgress && lastDraw > 0) process.stderr.write('\n');
  return {
    data: { direction: endpoints.direction, leaseId: endpoints.leaseId, bytes: result.bytes, destination: result.destination },
    human: (r) => r.line(`Copied ${result.bytes} bytes (tar stream) to ${result.destination}.`),
  };
}
