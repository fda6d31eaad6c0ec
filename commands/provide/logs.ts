// `iocli provide logs`: the agent's own log, or one lease container's output on this machine.
import type { CommandSpec } from '../spec.js';
import { UsageError } from '../../src/errors.js';
import { providerDataDir } from '../../src/provider/data-dir.js';

export interface ProvideLogsOptions {
  /** A lease's container logs instead of the agent's own log. */
  lease?: string;
  follow: boolean;
  tail: number;
  dataDir: string;
}

export const provideLogs: CommandSpec<ProvideLogsOptions> = {
  path: 'provide logs',
  summary: "Print the agent's log, or a lease container's logs (--lease)",
  options: [
    { flags: '--lease <id>', description: 'a lease running on this machine: its container logs' },
    { flags: '-f, --follow', description: 'keep printing new lines until Ctrl-C' },
    { flags: '--tail <n>', description: 'only the last N lines', defaultValue: '200' },
    { flags: '--data-dir <path>', description: 'the agent\'s data folder (default ~/.local/share/iocli/provider)' },
  ],
  examples: ['iocli provide logs', 'iocli provide logs --follow', 'iocli provide logs --lease lease_abc123 --tail 50'],
  parse({ flags, globals, env }) {
    const f = flags as { lease?: string; follow?: boolean; tail?: string; dataDir?: string };
    const tail = Number(f.tail ?? '200');
    if (!Number.isSafeInteger(tail) || tail < 0) throw new UsageError(`Invalid --tail "${f.tail}".`, { hint: 'A whole number of lines, e.g. --tail 100.' });
    if (globals.json) throw new UsageError('provide logs prints raw log text; --json is not supported.', { hint: 'Drop --json.' });
    return { ...(f.lease !== undefined ? { lease: f.lease } : {}), follow: f.follow === true, tail, dataDir: providerDataDir(f.dataDir, env) };
  },
  async run(flags, ctx) {
    const { UserError } = await import('../../src/errors.js');
    const { dataDir, tail } = flags;
    const { join } = await import('node:path');
    const { AGENT_LOG_FILE, readAgentState } = await import('../../src/provider/data-dir.js');

    if (flags.lease === undefined) {
      const { followFile, tailFile } = await import('../../src/provider/agent-log.js');
      const path = join(dataDir, AGENT_LOG_FILE);
      let start: { text: string; size: number };
      try {
        start = await tailFile(path, tail);
      } catch {
        throw new UserError(`No agent log at ${path}.`, { code: 'NOT_FOUND', hint: 'Start the agent with `iocli provide`, or pass its --data-dir.' });
      }
      ctx.out.print(start.text);
      if (flags.follow) await followFile(path, start.size, (text) => ctx.out.print(text), ctx.signal);
      return;
    }

    const state = await readAgentState(dataDir);
    if (!state.nodeId) throw new UserError(`No node has been registered from ${dataDir}.`, { code: 'NODE_NOT_REGISTERED', hint: 'Pass the --data-dir the agent uses.' });
    const runtime = await ctx.containers({ nodeId: state.nodeId });
    const container = (await runtime.listManaged()).find((c) => c.leaseId === flags.lease);
    if (!container) {
      throw new UserError(`Lease ${flags.lease} has no container on this machine.`, {
        code: 'NOT_FOUND',
        hint: 'See `iocli provide status` for the leases here; renters read logs with `iocli lease logs ID`.',
      });
    }
    await runtime.logs(container.id, { tail, follow: flags.follow }, (chunk) => ctx.out.print(chunk.text), ctx.signal);
  },
};
