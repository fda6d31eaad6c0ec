// A node's heartbeat (liveness, telemetry, the container states it reports) and its long-poll for new assignments.
import type { Assignment, HeartbeatInput } from '../api/schemas/nodes.js';
import type { ChallengeOffer, ProbeOffer } from '../api/schemas/provider-trust.js';
import { replyJsonOf, versionOf } from './assignments.js';
import type { CoordinatorContext } from './context.js';
import { endLease, markRunning } from './leases.js';
import { appendLogs } from './logs.js';
import { nodeFor, recordVerification } from './nodes.js';

/**
 * Record a heartbeat and return the node's desired state. Liveness/telemetry is buffered (HeartbeatBuffer.flush);
 * lease transitions the heartbeat reveals are written at once.
 */
export async function recordHeartbeat(ctx: CoordinatorContext, nodeId: string, actor: string, input: HeartbeatInput): Promise<{ assignments: Assignment[]; version: string; challenge?: ChallengeOffer; probe?: ProbeOffer }> {
  const node = await nodeFor(ctx, nodeId, actor);
  const now = ctx.options.now();
  ctx.heartbeats.record(nodeId, now, input.gpus);
  if (input.verification) await recordVerification(ctx, nodeId, node, input.verification);
  if (input.draining !== undefined && input.draining !== node.draining) {
    // Written at once (not buffered): placement must stop choosing this node now, on every replica.
    await ctx.db.updateTable('nodes').set({ draining: input.draining ? 1 : 0 }).where('id', '=', nodeId).execute();
    node.draining = input.draining;
  }
  if (node.status !== 'online') {
    await ctx.db.updateTable('nodes').set({ status: 'online', last_heartbeat_at: now }).where('id', '=', nodeId).execute();
    node.status = 'online';
  }
  let current = await ctx.assignments.forNode(nodeId);
  let changed = false;
  for (const container of input.containers) {
    const state = current.states.get(container.leaseId);
    if (!state) continue;
    if (container.state === 'running' && (state === 'scheduled' || state === 'paid')) {
      await markRunning(ctx, container.leaseId, now);
      changed = true;
    } else if (container.state === 'exited' || container.state === 'failed') {
      const ok = container.state === 'exited' && container.exitCode === 0;
      const reason = ok ? null : container.message ?? `container ${container.state}${container.exitCode != null ? ` with exit code ${container.exitCode}` : ''}`;
      // A workload that exits on its own is a finished batch job: exit 0 completes the lease, any other code fails it.
      // A short job can start and exit between two heartbeats: it did run, so it gets a start time (now, at the latest).
      if (container.state === 'exited' && (state === 'scheduled' || state === 'paid')) await markRunning(ctx, container.leaseId, now);
      await endLease(ctx, container.leaseId, ok ? 'completed' : 'failed', now, { reason, nodeFault: false, exitCode: container.state === 'exited' ? (container.exitCode ?? null) : null });
      changed = true;
    }
  }
  if (input.logs?.length) {
    for (const log of input.logs) {
      if (current.states.has(log.leaseId)) await appendLogs(ctx, log.leaseId, [{ stream: log.stream, data: log.data, encoding: log.encoding }], now);
    }
  }
  if (changed) current = await ctx.assignments.forNode(nodeId, true);
  return { assignments: current.assignments, version: versionOf(current), ...(current.challenge ? { challenge: current.challenge } : {}), ...(current.probe ? { probe: current.probe } : {}) };
}

/**
 * The common heartbeat without a promise: a cached node that is online, reports nothing that needs a write (no
 * verification, draining unchanged, no lease transitions, no logs) and whose assignments are fresh in memory. Returns
 * the reply as JSON, or undefined (nothing recorded) when recordHeartbeat must handle it.
 */
export function recordQuietHeartbeat(ctx: CoordinatorContext, nodeId: string, actor: string, input: HeartbeatInput): string | undefined {
  const node = ctx.nodeCache.get(nodeId);
  if (!node || node.owner !== actor || node.status !== 'online' || input.verification || input.logs?.length) return undefined;
  if (input.draining !== undefined && input.draining !== node.draining) return undefined;
  const current = ctx.assignments.peek(nodeId);
  if (!current) return undefined;
  for (const container of input.containers) {
    const state = current.states.get(container.leaseId);
    if (!state) continue;
    if (container.state === 'running' ? state === 'scheduled' || state === 'paid' : container.state === 'exited' || container.state === 'failed') return undefined;
  }
  ctx.heartbeats.record(nodeId, ctx.options.now(), input.gpus);
  return replyJsonOf(current);
}

/** Long-poll for the node's assignments once its owner is checked (see AssignmentBoard.waitForChange). */
export async function waitForAssignments(ctx: CoordinatorContext, nodeId: string, actor: string, after: string | undefined, waitMs: number, signal?: AbortSignal): Promise<{ assignments: Assignment[]; version: string; challenge?: ChallengeOffer }> {
  await nodeFor(ctx, nodeId, actor);
  return ctx.assignments.waitForChange(nodeId, after, waitMs, signal);
}
