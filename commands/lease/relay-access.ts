// What the relay verbs (`lease exec|shell|port-forward|connect|cp`) share: whom to dial, and this terminal wired to a
// command in the container. Every one of them is a client of src/renter/relay-client.ts.
import type { RelayTarget } from '../../src/renter/relay-client.js';
import type { Context } from '../context.js';

export async function relayTarget(ctx: Context, leaseId: string, node: string | undefined): Promise<RelayTarget> {
  // The URL alone, not the API client: these commands speak WebSocket only, and a renter's `lease exec` starts faster.
  // Streams go to the first configured coordinator (a replica forwards them to the one holding the agent).
  const [apiUrl, keypair, { coordinatorUrls }] = await Promise.all([ctx.apiUrl(), ctx.keypair(), import('../../src/api/coordinator-urls.js')]);
  return { apiUrl: coordinatorUrls(apiUrl)[0]!, keypair, leaseId, node };
}

/** Runs `command` in the lease with this process's stdin/stdout/stderr; returns its exit code. */
export async function execWithTerminal(ctx: Context, target: RelayTarget, command: string[], mode: { stdin: boolean; tty: boolean }): Promise<number> {
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
