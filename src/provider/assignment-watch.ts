// The assignment long-poll: a change of assignments wakes the heartbeat loop at once instead of a heartbeat interval later.
import type { AgentSession } from './agent-session.js';
import type { ProviderApi } from './agent-types.js';

export interface AssignmentWatch {
  /** Ends the long-poll; resolves once it has returned. */
  stop(): Promise<void>;
}

/** Starts watching at once. `longPollMs` (capped at 25 000) of 0, or an API without the long-poll, watches nothing. */
export function watchAssignments(session: AgentSession, input: { api: ProviderApi; nodeId: string; longPollMs?: number }): AssignmentWatch {
  const { api, nodeId } = input;
  const longPollMs = Math.min(25_000, input.longPollMs ?? 25_000);
  // It follows the loop: through a drain too (a renter stopping a lease there is noticed at once), until pollStop.
  const pollStop = new AbortController();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        pollStop.signal.removeEventListener('abort', done);
        resolve();
      }
      pollStop.signal.addEventListener('abort', done, { once: true });
    });
  const longPoll = (async () => {
    if (!api.assignments || longPollMs <= 0) return;
    let failuresInRow = 0;
    while (!pollStop.signal.aborted) {
      const current = session.loopSignal;
      if (current.aborted) {
        await pause(50);
        continue;
      }
      try {
        const answer = await api.assignments(nodeId, { after: session.version, waitMs: longPollMs }, { signal: AbortSignal.any([pollStop.signal, current]) });
        failuresInRow = 0;
        if (answer.version !== session.version) {
          session.version = answer.version;
          session.sleeper.wake();
        }
      } catch {
        if (pollStop.signal.aborted || current.aborted) continue;
        // The heartbeat loop reports coordinator trouble; this only backs off (an old coordinator answers 404 forever).
        failuresInRow += 1;
        await pause(Math.min(60_000, 1_000 * 2 ** Math.min(failuresInRow, 6)));
      }
    }
  })();
  return {
    async stop() {
      pollStop.abort();
      await longPoll;
    },
  };
}
