// Registering the node with the coordinator, and remembering the registration in the data directory.
import type { Node, RegisterNodeRequest } from '../api/schemas/nodes.js';
import { writeAgentState } from './data-dir.js';
import { errorCode, errorText, httpStatus, type AgentSession } from './agent-session.js';
import type { ProviderApi } from './agent-types.js';

/**
 * Registers, retried while the coordinator is unreachable; refused registrations are the user's to fix (thrown).
 * Undefined once `signal` aborts.
 */
export async function registerNode(
  session: AgentSession,
  input: { api: ProviderApi; registration: RegisterNodeRequest; signal: AbortSignal },
): Promise<Node | undefined> {
  const { api, registration, signal } = input;
  for (let attempt = 1; !signal.aborted; attempt++) {
    session.emit({ type: 'registering', machineId: registration.machineId, attempt });
    try {
      return await api.registerNode(registration, { signal });
    } catch (error) {
      if (signal.aborted) return undefined;
      const status = httpStatus(error);
      if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) throw error;
      session.emit({ type: 'warning', message: `Registration failed (attempt ${attempt}): ${errorText(error)}`, code: errorCode(error) });
      await session.sleeper.sleep(Math.min(30_000, 1_000 * 2 ** Math.min(attempt - 1, 5)));
    }
  }
  return undefined;
}

/** Announces the registered node and saves it to the agent state (`iocli provide status` reads it). */
export async function rememberNode(
  session: AgentSession,
  node: Node,
  input: { registration: RegisterNodeRequest; dataDir: string; apiUrl?: string },
): Promise<void> {
  const { registration } = input;
  const { state } = session;
  const simulated = registration.simulated === true;
  session.emit({ type: 'registered', nodeId: node.id, machineId: registration.machineId, gpus: node.gpus.length, simulated });
  state.nodeId = node.id;
  state.owner = node.owner;
  state.node = {
    machineId: registration.machineId,
    gpus: node.gpus,
    simulated,
    region: node.region,
    pricePerGpuHour: node.pricePerGpuHour,
    ...(input.apiUrl ? { apiUrl: input.apiUrl } : {}),
    registeredAt: new Date(session.now()).toISOString(),
  };
  await writeAgentState(input.dataDir, state);
}
