// `iocli provide why`: why this machine's node is not offered or not earning, as the coordinator sees it, with the next
// step for each reason (GET /v1/nodes/:id/why; the coordinator's own data, never the agent's word).
import type { HumanRenderer } from '../output.js';
import type { CommandSpec } from '../spec.js';
import { providerDataDir } from '../../src/provider/data-dir.js';

export interface ProvideWhyOptions {
  dataDir: string;
  /** Default: the node registered from dataDir. */
  node?: string;
}

export const provideWhy: CommandSpec<ProvideWhyOptions> = {
  path: 'provide why',
  summary: 'Explain why this node is not offered or not earning, and what to do about each reason',
  options: [
    { flags: '--data-dir <path>', description: "the agent's data folder (default ~/.local/share/iocli/provider)" },
    { flags: '--node <id>', description: 'ask about this node id instead of the one registered from the data folder' },
  ],
  examples: ['iocli provide why', 'iocli provide why --json', 'iocli provide why --node node_abc123'],
  parse: ({ flags, env }) => ({ dataDir: providerDataDir(flags.dataDir as string | undefined, env), ...(flags.node ? { node: String(flags.node) } : {}) }),
  async run(options, ctx) {
    let nodeId = options.node;
    if (!nodeId) {
      const [{ readAgentState }, { UserError }] = await Promise.all([import('../../src/provider/data-dir.js'), import('../../src/errors.js')]);
      const { dataDir } = options;
      const state = await readAgentState(dataDir);
      if (!state.nodeId) {
        throw new UserError(`No node has been registered from ${dataDir}.`, { code: 'NODE_NOT_REGISTERED', hint: 'Start providing with `iocli provide`, or pass --node ID (or the --data-dir the agent uses).' });
      }
      nodeId = state.nodeId;
    }
    const why = await (await ctx.api()).nodeWhy(nodeId, { signal: ctx.signal });
    return {
      data: why,
      human: (r: HumanRenderer) => {
        r.keyValues([
          ['Node', why.nodeId],
          ['Offered', why.offered ? r.colors.green('yes') : r.colors.yellow('no')],
          ['Earning', why.earning ? r.colors.green('yes (a lease is running)') : r.colors.yellow('no')],
          ['Verified until', why.verifiedUntil ?? 'not verified'],
        ]);
        r.line();
        if (why.reasons.length === 0) r.line('Nothing stands in the way: the node is offered and earns when renters pick it.');
        for (const reason of why.reasons) {
          r.line(`${r.colors.yellow(reason.code)}: ${reason.message}`);
          r.line(`  next: ${reason.next}`);
        }
        if (why.challenges.length > 0) {
          r.line();
          r.table(
            ['Challenge', 'Reason', 'Kind', 'State', 'Took', 'Allowed', 'Detail'],
            why.challenges.map((c) => [c.id, c.reason, c.kind, c.state, c.computeMs === null ? '-' : `${c.computeMs} ms`, `${c.allowedMs} ms`, c.detail ?? '']),
          );
        }
      },
    };
  },
};
