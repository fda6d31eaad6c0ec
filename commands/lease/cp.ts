// `iocli lease cp SRC DST`: copy files and directories into or out of a lease's container (one side ID:/path).
import { parseCpEndpoints, type CpEndpoints } from '../../src/renter/parse.js';
import type { Context } from '../context.js';
import type { CommandResult, CommandSpec } from '../spec.js';
import { requireLeaseId } from './lease-id.js';

export interface LeaseCpOptions {
  endpoints: CpEndpoints;
  node?: string;
  progress: boolean;
}

export const leaseCp: CommandSpec<LeaseCpOptions> = {
  path: 'lease cp',
  summary: "Copy files and directories to or from a lease's container, modes kept",
  description:
    'Copy SRC into the directory DST (created if missing); one of them is ID:/path in the lease. Files and whole ' +
    'directories, modes kept, streamed as tar through the coordinator (tar is needed here and in the image; busybox ' +
    'will do). A progress line shows on stderr when it is a terminal.',
  args: ['<src>', '<dst>'],
  options: [
    { flags: '--node <id>', description: 'the node of a multi-node lease (default: its first node)' },
    { flags: '--no-progress', description: 'no progress line' },
  ],
  examples: ['iocli lease cp ./data lease_abc123:/workspace        # → /workspace/data', 'iocli lease cp lease_abc123:/workspace/checkpoints ./results   # → ./results/checkpoints', 'iocli lease cp ./train.py lease_abc123:/workspace --json'],
  parse({ args: [src, dst], flags }) {
    const endpoints = parseCpEndpoints(src ?? '', dst ?? '');
    requireLeaseId(endpoints.leaseId);
    return { endpoints, ...(flags.node !== undefined ? { node: String(flags.node) } : {}), progress: flags.progress !== false };
  },
  run: runLeaseCp,
};

/** SRC (file or directory) is copied into the directory DST, modes kept. */
export async function runLeaseCp({ endpoints, node, progress }: LeaseCpOptions, ctx: Context): Promise<CommandResult> {
  const [{ copyToLease, copyFromLease }, { relayTarget }] = await Promise.all([import('../../src/renter/lease-copy.js'), import('./relay-access.js')]);
  const target = await relayTarget(ctx, endpoints.leaseId, node);
  const showProgress = progress && !ctx.globals.quiet && !ctx.globals.json && Boolean(process.stderr.isTTY);
  let lastDraw = 0;
  const onProgress = (bytes: number) => {
    if (!showProgress || ctx.now() - lastDraw < 200) return;
    lastDraw = ctx.now();
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
