// Log shipping glue: reads lease containers' new output (log-shipper.ts), advances the saved cursors once the
// coordinator has the lines, and splits each round between the heartbeat and the separate upload endpoint.
import type { ContainerRuntime, ManagedContainer } from '../docker/runtime.js';
import { collectContainerLogs, type LogBatch } from './log-shipper.js';
import { errorCode, errorText, type AgentSession } from './agent-session.js';
import type { ProviderApi } from './agent-types.js';

// The coordinator takes 1 MiB bodies and 256 log entries a heartbeat; logs above this wait for the next round.
// Output bytes: their base64 is 4/3 of this.
const HEARTBEAT_LOG_BUDGET_CHARS = 384 * 1024;
const HEARTBEAT_LOG_BUDGET_ENTRIES = 200;

export interface LeaseLogs {
  /** Undefined when log shipping is off or the logs cannot be read (a warning). */
  collect(container: Pick<ManagedContainer, 'id' | 'leaseId'>): Promise<LogBatch | undefined>;
  /** The coordinator has the batch: move the lease's cursor past it. */
  accept(batch: LogBatch): void;
  /** Ships what a container printed since the last round through the upload endpoint (leases the heartbeat no longer covers). */
  uploadFinal(container: Pick<ManagedContainer, 'id' | 'leaseId'>): Promise<void>;
  /** One round: leases the coordinator still assigns ride on the heartbeat (within its budget); the others are uploaded separately. */
  gather(containers: ManagedContainer[], assigned: ReadonlySet<string>): Promise<{ heartbeatBatches: LogBatch[]; uploadBatches: Array<{ batch: LogBatch }> }>;
}

export function createLeaseLogs(
  session: AgentSession,
  input: { api: ProviderApi; nodeId: string; runtime: ContainerRuntime; shipLogs: boolean },
): LeaseLogs {
  const { api, nodeId, runtime, shipLogs } = input;

  async function collect(container: Pick<ManagedContainer, 'id' | 'leaseId'>): Promise<LogBatch | undefined> {
    if (!shipLogs) return undefined;
    try {
      return await collectContainerLogs(runtime, container, session.state.logCursors[container.leaseId]);
    } catch (error) {
      session.emit({ type: 'warning', message: `Cannot read logs of lease ${container.leaseId}: ${errorText(error)}`, code: errorCode(error) });
      return undefined;
    }
  }

  function accept(batch: LogBatch): void {
    session.state.logCursors[batch.leaseId] = batch.cursor;
    session.stateDirty = true;
    session.emit({ type: 'logs-shipped', leaseId: batch.leaseId, bytes: batch.bytes });
  }

  async function uploadFinal(container: Pick<ManagedContainer, 'id' | 'leaseId'>): Promise<void> {
    for (let round = 0; round < 20; round++) {
      const batch = await collect(container);
      if (!batch) return;
      try {
        await api.uploadLogs(nodeId, batch.leaseId, { chunks: batch.chunks });
        accept(batch);
      } catch (error) {
        session.emit({ type: 'warning', message: `Cannot upload logs of lease ${container.leaseId}: ${errorText(error)}`, code: errorCode(error) });
        return;
      }
    }
  }

  async function gather(containers: ManagedContainer[], assigned: ReadonlySet<string>) {
    const heartbeatBatches: LogBatch[] = [];
    const uploadBatches: Array<{ batch: LogBatch }> = [];
    let chars = 0;
    let entries = 0;
    for (const container of containers) {
      const batch = await collect(container);
      if (!batch) continue;
      if (!assigned.has(container.leaseId)) uploadBatches.push({ batch });
      else if (chars + batch.bytes <= HEARTBEAT_LOG_BUDGET_CHARS && entries + batch.chunks.length <= HEARTBEAT_LOG_BUDGET_ENTRIES) {
        heartbeatBatches.push(batch);
        chars += batch.bytes;
        entries += batch.chunks.length;
      }
    }
    return { heartbeatBatches, uploadBatches };
  }

  return { collect, accept, uploadFinal, gather };
}
