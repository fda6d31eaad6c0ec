// `iocli lease logs ID`: the container's output on stdout (control sequences shown, not run, unless --raw);
// --follow keeps polling until the lease ends.
import { UsageError } from '../../src/errors.js';
import { parsePositiveInt } from '../../src/renter/parse.js';
import type { Context } from '../context.js';
import type { CommandResult, CommandSpec } from '../spec.js';
import { requireLeaseId } from './lease-id.js';

export interface LeaseLogsOptions {
  leaseId: string;
  follow: boolean;
  tail?: number;
  raw: boolean;
  intervalMs: number;
}

export const leaseLogs: CommandSpec<LeaseLogsOptions> = {
  path: 'lease logs',
  summary: "Print a lease's container logs (--follow to stream until it ends)",
  description:
    "Print the container's stdout and stderr lines as they were captured. With --follow, keep polling for new\n" +
    'lines until the lease ends or Ctrl-C. With --json, print one document with the entries and the cursor.\n' +
    'Terminal control sequences in the output (colours, cursor moves, titles) are shown as escapes like \\x1b;\n' +
    '--raw writes the exact bytes the container printed instead (for piping to a file or a tool).',
  args: ['<id>'],
  options: [
    { flags: '-f, --follow', description: 'keep printing new lines until the lease ends (Ctrl-C to stop)' },
    { flags: '-n, --tail <lines>', description: 'start with only the last N lines' },
    { flags: '--raw', description: 'write the exact bytes the container printed, escape sequences included' },
    { flags: '--interval <ms>', description: 'polling interval with --follow', defaultValue: '1000', hidden: true },
  ],
  examples: ['iocli lease logs lease_abc123', 'iocli lease logs lease_abc123 --follow --tail 100', 'iocli lease logs lease_abc123 --json', 'iocli lease logs lease_abc123 --raw > out.log'],
  parse({ args: [id], flags, globals }) {
    const leaseId = requireLeaseId(id);
    const f = flags as { follow?: boolean; tail?: string; raw?: boolean; interval?: string };
    const options = {
      leaseId,
      follow: Boolean(f.follow),
      ...(f.tail !== undefined ? { tail: parsePositiveInt(f.tail, '--tail', 10_000) } : {}),
      raw: Boolean(f.raw),
      intervalMs: parsePositiveInt(String(f.interval ?? '1000'), '--interval', 60_000),
    };
    if (globals.json && options.raw) throw new UsageError('--raw and --json do not go together.', { hint: '--json keeps the text as it is; --raw writes the bytes.' });
    return options;
  },
  run: runLeaseLogs,
};

export async function runLeaseLogs(options: LeaseLogsOptions, ctx: Context): Promise<CommandResult | void> {
  const { leaseId } = options;
  const [api, { followLogs }, { workloadExitCode }] = await Promise.all([ctx.api(), import('../../src/renter/lease-flow.js'), import('../../src/renter/format.js')]);
  const collected: Array<{ cursor: number; stream: string; data: string; at: string }> = [];
  const json = ctx.globals.json;
  const result = await followLogs(api, leaseId, {
    tail: options.tail,
    follow: options.follow,
    intervalMs: options.intervalMs,
    signal: ctx.signal,
    ...(options.raw ? { encoding: 'base64' as const } : {}),
    onEntry: (entry) => {
      if (json) collected.push(entry);
      else if (options.raw) ctx.out.raw(entry.encoding === 'base64' ? Buffer.from(entry.data, 'base64') : entry.data);
      else ctx.out.print(entry.data.endsWith('\n') ? entry.data : `${entry.data}\n`);
    },
  });
  if (options.follow && result.ended && !json) {
    const exitCode = result.lease ? workloadExitCode(result.lease) : null;
    ctx.out.info(`Lease ${leaseId} has ended${result.lease ? ` (${result.lease.state}${exitCode !== null ? `, exit code ${exitCode}` : ''})` : ''}.`);
  }
  if (json) return { data: { leaseId, entries: collected, cursor: result.cursor } };
  if (result.entries === 0 && !options.follow) ctx.out.info(`No log lines for lease ${leaseId} yet.`);
}
