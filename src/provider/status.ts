// `iocli provide status`'s facts about this machine's node, from the three places that know them: the agent's data
// folder (node id, what it registered), Docker (the lease containers here) and the coordinator (status, bond,
// earnings). A source that cannot be asked is reported as such, never fatal, except a folder with no node in it.
import type { ApiClient } from '../api/client.js';
import type { NodeDetail } from '../api/schemas/nodes.js';
import type { NodeBond } from '../api/schemas/provider-trust.js';
import type { ContainerRuntime } from '../docker/runtime.js';
import { UserError } from '../errors.js';
import { readAgentState, runningAgentPid } from './data-dir.js';

export interface LeaseContainerRow {
  leaseId: string;
  containerId: string;
  image: string;
  state: string;
  exitCode: number | null;
  startedAt: string | null;
}

export interface NodeStatusSources {
  dataDir: string;
  /** The coordinator client (signed: rewards are the owner's). */
  api: () => Promise<Pick<ApiClient, 'node' | 'nodeBond' | 'rewards'>>;
  /** The container runtime bound to the node. */
  containers: (nodeId: string) => Promise<Pick<ContainerRuntime, 'listManaged'>>;
  signal?: AbortSignal;
}

export async function gatherNodeStatus({ dataDir, api, containers, signal }: NodeStatusSources) {
  const state = await readAgentState(dataDir);
  if (!state.nodeId || !state.node) {
    throw new UserError(`No node has been registered from ${dataDir}.`, {
      code: 'NODE_NOT_REGISTERED',
      hint: 'Start providing with `iocli provide` (or pass the --data-dir the agent uses).',
    });
  }
  const nodeId = state.nodeId;
  const pid = await runningAgentPid(dataDir);
  let leases: LeaseContainerRow[] = [];
  let dockerError: string | undefined;
  try {
    const listed = await (await containers(nodeId)).listManaged();
    leases = listed.map((c) => ({ leaseId: c.leaseId, containerId: c.id.slice(0, 12), image: c.image, state: c.state, exitCode: c.exitCode, startedAt: c.startedAt }));
  } catch (error) {
    dockerError = (error as Error).message;
  }
  let remote: NodeDetail | null = null;
  let coordinatorError: string | undefined;
  try {
    remote = await (await api()).node(nodeId, { signal });
  } catch (error) {
    coordinatorError = (error as Error).message;
  }
  let bond: NodeBond | null = null;
  if (remote) bond = await (await api()).nodeBond(nodeId, { signal }).catch(() => null);
  let earnings: { accrued: number; claimed: number; pending: number; claimable: number } | null = null;
  let earningsError: string | undefined;
  try {
    const rewards = await (await api()).rewards({ signal });
    earnings = { accrued: rewards.accrued, claimed: rewards.claimed, pending: rewards.pending, claimable: rewards.claimable };
  } catch (error) {
    earningsError = (error as Error).message;
  }
  return {
    nodeId,
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
}

export type NodeStatus = Awaited<ReturnType<typeof gatherNodeStatus>>;
