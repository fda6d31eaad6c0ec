// `iocli lease logs ID`: the container's output on stdout (control sequences shown, not run, unless --raw);
// --follow keeps polling until the lease ends.
import type { CommandSpec } from '../spec.js';

export interface LeaseLogsOptions {
  follow?: boolean;
  tail?: string;
  raw?: boolean;
  interval: string;
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
  async run([id], options, ctx) {
    const { runLeaseLogs } = await import('./lease-run.js');
    return runLeaseLogs(id!, options, ctx);
  },
};
