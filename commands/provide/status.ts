// `iocli provide status`: this machine's node as the coordinator sees it (status, GPUs, leases; local data when it cannot
// be reached), the lease containers running here, and earnings so far. Gathering is src/provider/status.ts.
import { providerDataDir } from '../../src/provider/data-dir.js';
import type { HumanRenderer } from '../output.js';
import type { CommandSpec } from '../spec.js';

export const provideStatus: CommandSpec<{ dataDir: string }> = {
  path: 'provide status',
  summary: 'Show the node id, GPUs, running leases and earnings of this machine',
  options: [{ flags: '--data-dir <path>', description: 'the agent\'s data folder (default ~/.local/share/iocli/provider)' }],
  examples: ['iocli provide status', 'iocli provide status --json'],
  parse: ({ flags, env }) => ({ dataDir: providerDataDir(flags.dataDir as string | undefined, env) }),
  async run({ dataDir }, ctx) {
    const [{ gatherNodeStatus }, { formatTokenAmount }] = await Promise.all([import('../../src/provider/status.js'), import('../../src/domain/money.js')]);
    const data = await gatherNodeStatus({ dataDir, api: () => ctx.api(), containers: (nodeId) => ctx.containers({ nodeId }), signal: ctx.signal });
    // Amounts in the network's token (its decimals); the token's default when the coordinator cannot be asked.
    const { decimals } = await ctx.network();
    const amount = (units: number) => formatTokenAmount(units, decimals);
    const { bond, earnings } = data;
    return {
      data,
      human: (r: HumanRenderer) => {
        r.keyValues([
          ['Node', data.nodeId],
          ['Agent', data.agent.running ? r.colors.green(`running (pid ${data.agent.pid})`) : r.colors.yellow('not running')],
          ['Status', data.status ? (data.status === 'online' ? r.colors.green('online') : r.colors.yellow(data.status)) : r.colors.yellow(`unknown (coordinator unreachable: ${data.coordinatorError}); showing local data`)],
          ['GPUs', `${data.gpus.length}${data.simulated ? ' (SIMULATED)' : data.source === 'coordinator' ? (data.verified ? ' (verified)' : ' (unverified)') : ''}`],
          ['Price', `${amount(data.pricePerGpuHour)} tokens per GPU-hour`],
          ['Region', data.region],
          ['Public host', data.publicHost ?? undefined],
          ['Last heartbeat', data.lastHeartbeatAt ?? undefined],
          ['Bond', bond ? `${amount(bond.held)} tokens held; ${bond.gpus.filter((g) => g.state === 'active').length} of ${bond.gpus.length} GPU(s) bonded${bond.gpus.some((g) => g.state === 'unbonding') ? ', some unbonding' : ''}` : undefined],
          ['Earned', earnings ? `${amount(earnings.accrued)} tokens (claimable ${amount(earnings.claimable)}, claimed ${amount(earnings.claimed)})` : `unknown: ${data.earningsError}`],
        ]);
        r.line();
        r.table(['#', 'Model', 'VRAM', 'UUID'], data.gpus.map((g) => [g.index, g.model, `${Math.round(g.vramMb / 1024)} GiB`, g.uuid]));
        const assigned = data.assignedLeases ?? [];
        if (assigned.length > 0) r.table(['Assigned lease', 'State', 'Image', 'GPUs', 'Ends'], assigned.map((l) => [l.id, l.state, l.image, l.gpuUuids.length, l.endsAt]));
        if (data.dockerError) r.line(r.colors.yellow(`Cannot list containers: ${data.dockerError}`));
        else if (data.leases.length === 0) r.line('No lease containers on this machine.');
        else r.table(['Lease', 'Container', 'Image', 'State', 'Exit', 'Started'], data.leases.map((l) => [l.leaseId, l.containerId, l.image, l.state, l.exitCode, l.startedAt]));
      },
    };
  },
};
