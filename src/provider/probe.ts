// Answers the coordinator's liveness probes of running leases (src/coordinator/evidence.ts) from the containers' state.
import type { ProbeOffer } from '../api/schemas/provider-trust.js';
import type { ContainerRuntime } from '../docker/runtime.js';
import { errorText, type AgentSession } from './agent-session.js';
import type { ProviderApi } from './agent-types.js';

export interface ProbeResponder {
  offer(probe: ProbeOffer): void;
  idle(): Promise<void>;
}

export function createProbeResponder(session: AgentSession, input: { api: ProviderApi; nodeId: string; runtime: ContainerRuntime }): ProbeResponder {
  const seen = new Set<string>();
  const running = new Set<Promise<void>>();
  return {
    offer(probe) {
      if (seen.has(probe.id) || !input.api.answerProbe) return;
      seen.add(probe.id);
      const answer = input.api.answerProbe.bind(input.api);
      const run = (async () => {
        const containers = await input.runtime.listManaged();
        const leases = probe.leaseIds.map((leaseId) => {
          const c = containers.find((x) => x.leaseId === leaseId && x.running) ?? containers.find((x) => x.leaseId === leaseId);
          return { leaseId, containerId: c?.id ?? '', running: c?.running ?? false, state: c?.state ?? 'missing', startedAt: c?.startedAt ?? null };
        });
        const result = await answer(input.nodeId, probe.id, { leases }, { signal: session.workController.signal });
        // 'issued': the coordinator checks inside the container through the relay; the agent's word does not close it.
        if (result.state === 'failed' || result.state === 'expired') session.emit({ type: 'warning', message: `Liveness probe ${probe.id} ${result.state}: ${result.detail ?? ''} (no earnings until a later probe passes)` });
      })()
        .catch((error) => session.emit({ type: 'warning', message: `Cannot answer liveness probe ${probe.id}: ${errorText(error)}` }))
        .finally(() => running.delete(run));
      running.add(run);
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
