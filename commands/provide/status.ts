// `iocli provide status`: this machine's node as the coordinator sees it (status, GPUs, leases; local data when it cannot
// be reached), the lease containers running here, and earnings so far.
import type { HumanRenderer } from '../output.js';
import type { CommandSpec } from '../spec.js';
import { dataDirFrom, withParentFlags } from './shared.js';

export const provideStatus: CommandSpec<{ dataDir?: string }> = {
  path: 'provide status',
  summary: 'Show the node id, GPUs, running leases and earnings of this machine',
  options: [{ flags: '--data-dir <path>', description: 'the agent\'s data folder (default ~/.local/share/iocli/provider)' }],
  examples: ['iocli provide status', 'iocli provide status --json'],
  async run(_args, ownFlags, ctx) {
    const flags = withParentFlags(ownFlags, ctx, ['dataDir']);
    const [{ readAgentState, runningAgentPid }, { createDockerRuntime }, { UserError }, { formatTokenAmount }] = await Promise.all([
      import('../../src/provider/data-dir.js'),
      import('../../src/docker/runtime.js'),
      import('../../src/errors.js'),
      import('../../src/domain/money.js'),
    ]);
    const dataDir = await dataDirFrom(flags.dataDir, ctx);
    const state = await readAgentState(dataDir);
    if (!state.nodeId || !state.node) {
      throw new UserError(`No node has been registered from ${dataDir}.`, {
        code: 'NODE_NOT_REGISTERED',
        hint: 'Start providing with `iocli provide` (or pass the --data-dir the agent uses).',
      });
    }
    const pid = await runningAgentPid(dataDir);
    let leases: Array<{ leaseId: string; containerId: string; image: string; state: string; exitCode: number | null; startedAt: string | null }> = [];
    let dockerError: string | undefined;
    try {
      const containers = await createDockerRuntime({ nodeId: state.nodeId }).listManaged();
      leases = containers.map((c) => ({ leaseId: c.leaseId, containerId: c.id.slice(0, 12), image: c.image, state: c.state, exitCode: c.exitCode, startedAt: c.startedAt }));
    } catch (error) {
      dockerError = (error as Error).message;
    }
    let earnings: { accrued: number; claimed: number; pending: number; claimable: number } | null = null;
    let earningsError: string | undefined;
    let remote: import('../../src/api/schemas.js').NodeDetail | null = null;
    let coordinatorError: string | undefined;
    try {
      remote = await (await ctx.api()).node(state.nodeId, { signal: ctx.signal });
    } catch (error) {
      coordinatorError = (error as Error).message;
    }
    const network = ctx.network();
    let bond: import('../../src/api/schemas.js').NodeBond | null = null;
    if (remote) bond = await (await ctx.api()).nodeBond(state.nodeId, { signal: ctx.signal }).catch(() => null);
    try {
      const rewards = await (await ctx.api()).rewards({ signal: ctx.signal });
      earnings = { accrued: rewards.accrued, claimed: rewards.claimed, pending: rewards.pending, claimable: rewards.claimable };
    } catch (error) {
      earningsError = (error as Error).message;
    }
    // Amounts in the network's token (its decimals); the token's default when the coordinator cannot be asked.
    const { decimals } = await network;
    const amount = (units: number) => formatTokenAmount(units, decimals);
    const data = {
      nodeId: state.nodeId,
      owner: state.owner ?? null,
      machineId: state.node.machineId,
      agent: pid !== undefined ? { running: true, pid } : { running: false, pid: null },
      /** From the coordinator (online | offline | draining); null when it could not be asked. */
      status: remote?.status ?? null,
      source: remote ? ('coordinator' as const) : ('local' as const),
      simulated: remote?.simulated ?? state.node.simulated,
      verified: remote?.verified ?? null,
      publicHost: remote?.publicHost ?? null,
      region: remote?.region ?? state.node.region,
      pricePerGpuHour: remote?.pricePerGpuHour ?? state.node.pricePerGpuHour,
      gpus: remote?.gpus ?? state.node.gpus,
      lastHeartbeatAt: remote?.lastHeartbeatAt ?? null,
      /** Leases the coordinator has placed on this node. */
      assignedLeases: remote?.leases ?? null,
      leases,
      earnings,
      /** The GPU bond as the coordinator holds it (null: not asked or an older coordinator). */
      bond,
      verification: state.verification ?? null,
      ...(dockerError ? { dockerError } : {}),
      ...(earningsError ? { earningsError } : {}),
      ...(coordinatorError ? { coordinatorError } : {}),
      dataDir,
    };
    return {
      data,
      human: (r: HumanRenderer) => {
        r.keyValues([
          ['Node', state.nodeId],
          ['Agent', pid !== undefined ? r.colors.green(`running (pid ${pid})`) : r.colors.yellow('not running')],
          ['Status', remote ? (remote.status === 'online' ? r.colors.green('online') : r.colors.yellow(remote.status)) : r.colors.yellow(`unknown (coordinator unreachable: ${coordinatorError}); showing local data`)],
          ['GPUs', `${data.gpus.length}${data.simulated ? ' (SIMULATED)' : remote ? (remote.verified ? ' (verified)' : ' (unverified)') : ''}`],
          ['Price', `${amount(data.pricePerGpuHour)} tokens per GPU-hour`],
          ['Region', data.region],
          ['Public host', data.publicHost ?? undefined],
          ['Last heartbeat', data.lastHeartbeatAt ?? undefined],
          ['Bond', bond ? `${amount(bond.held)} tokens held; ${bond.gpus.filter((g) => g.state === 'active').length} of ${bond.gpus.length} GPU(s) bonded${bond.gpus.some((g) => g.state === 'unbonding') ? ', some unbonding' : ''}` : undefined],
          ['Earned', earnings ? `${amount(earnings.accrued)} tokens (claimable ${amount(earnings.claimable)}, claimed ${amount(earnings.claimed)})` : `unknown: ${earningsError}`],
        ]);
        r.line();
        r.table(['#', 'Model', 'VRAM', 'UUID'], data.gpus.map((g) => [g.index, g.model, `${Math.round(g.vramMb / 1024)} GiB`, g.uuid]));
        if (remote && remote.leases.length > 0) r.table(['Assigned lease', 'State', 'Image', 'GPUs', 'Ends'], remote.leases.map((l) => [l.id, l.state, l.image, l.gpuUuids.length, l.endsAt]));
        if (dockerError) r.line(r.colors.yellow(`Cannot list containers: ${dockerError}`));
        else if (leases.length === 0) r.line('No lease containers on this machine.');
        else r.table(['Lease', 'Container', 'Image', 'State', 'Exit', 'Started'], leases.map((l) => [l.leaseId, l.containerId, l.image, l.state, l.exitCode, l.startedAt]));
      },
    };
  },
};
