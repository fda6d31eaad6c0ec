// `iocli lease cp SRC DST`: copy files and directories into or out of a lease's container (one side ID:/path).
import type { CommandSpec } from '../spec.js';
import type { CpFlags } from './relay-run.js';

export const leaseCp: CommandSpec<CpFlags> = {
  path: 'lease cp',
  summary: "Copy files and directories to or from a lease's container, modes kept",
  description:
    'Copy SRC into the directory DST (created if missing); one of them is ID:/path in the lease. Files and whole\n' +
    'directories, modes kept, streamed as tar through the coordinator (tar is needed here and in the image; busybox\n' +
    'will do). A progress line shows on stderr when it is a terminal.',
  args: ['<src>', '<dst>'],
  options: [
    { flags: '--node <id>', description: 'the node of a multi-node lease (default: its first node)' },
    { flags: '--no-progress', description: 'no progress line' },
  ],
  examples: ['iocli lease cp ./data lease_abc123:/workspace        # → /workspace/data', 'iocli lease cp lease_abc123:/workspace/checkpoints ./results   # → ./results/checkpoints', 'iocli lease cp ./train.py lease_abc123:/workspace --json'],
  async run([src, dst], options, ctx) {
    const { runLeaseCp } = await import('./relay-run.js');
    return runLeaseCp(src, dst, options, ctx);
  },
};
