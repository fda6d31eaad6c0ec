// Kicks off the one-time GPU verification (src/provider/verify.ts) after registering, without holding up the agent.
import type { RegisterNodeRequest } from '../api/schemas/nodes.js';
import type { ContainerRuntime } from '../docker/runtime.js';
import { errorText, type AgentSession } from './agent-session.js';

/**
 * Benchmarks in containers labelled for a separate node id (`<nodeId>.verify`) so the reconciler never sees them.
 * Resolves when done; failures become warnings.
 */
export function verifyInBackground(
  session: AgentSession,
  input: { nodeId: string; createRuntime(nodeId: string): ContainerRuntime; gpus: RegisterNodeRequest['gpus']; simulated: boolean },
): Promise<void> {
  return (async () => {
    const { verifyGpus } = await import('./verify.js');
    const results = await verifyGpus({
      runtime: input.createRuntime(`${input.nodeId}.verify`),
      nodeId: `${input.nodeId}.verify`,
      gpus: input.gpus,
      simulated: input.simulated,
      signal: session.workController.signal,
    });
    // Kept locally (provide status) and sent with the next heartbeat (the coordinator marks the node verified).
    session.state.verification = { at: new Date(session.now()).toISOString(), results };
    session.stateDirty = true;
    const { summarizeVerification } = await import('./verify.js');
    session.pendingVerification = summarizeVerification(results);
    session.emit({ type: 'verification', results });
  })().catch((error) => session.emit({ type: 'warning', message: `GPU verification failed: ${errorText(error)}` }));
}
