// Carries out the pure reconciler's actions (src/domain/reconcile.ts) against Docker: pulls and starts, stops, removals.
// Each runs in the background, tracked per lease, so pulls and stops never block heartbeats.
import type { ContainerRuntime } from '../docker/runtime.js';
import { nextStartFailure, type ReconcileAction, type StartFailure } from '../domain/reconcile.js';
import { errorCode, errorText, type AgentSession } from './agent-session.js';
import type { LeaseLogs } from './lease-logs.js';

export interface InFlight {
  phase: 'pulling' | 'starting' | 'stopping' | 'removing';
  done: Promise<void>;
}

export interface Converger {
  /** Work in progress by lease id; the reconciler leaves these leases alone until it settles. */
  inFlight: Map<string, InFlight>;
  /** Failed starts by lease id, for the reconciler's retry back-off. */
  failures: Record<string, StartFailure>;
  launch(action: ReconcileAction): void;
  /** Resolves when everything in flight now has finished. */
  settle(): Promise<void>;
}

/** Whatever this node's labelled containers are doing, they are ours again: announce them. */
export async function adoptContainers(session: AgentSession, runtime: ContainerRuntime): Promise<void> {
  try {
    const existing = await runtime.listManaged();
    if (existing.length > 0) {
      session.emit({ type: 'adopted', containers: existing.map((c) => ({ leaseId: c.leaseId, containerId: c.id, state: c.state })) });
    }
  } catch (error) {
    session.emit({ type: 'warning', message: `Cannot list containers: ${errorText(error)}`, code: errorCode(error) });
  }
}

export function createConverger(session: AgentSession, input: { runtime: ContainerRuntime; stopTimeoutSec: number; logs: LeaseLogs }): Converger {
  const { runtime, stopTimeoutSec, logs } = input;
  const { emit, now } = session;
  const inFlight = new Map<string, InFlight>();
  const failures: Record<string, StartFailure> = {};

  function track(leaseId: string, phase: InFlight['phase'], work: (entry: InFlight) => Promise<void>): void {
    const entry: InFlight = { phase, done: Promise.resolve() };
    entry.done = work(entry)
      .catch((error) => emit({ type: 'warning', message: `Lease ${leaseId}: ${errorText(error)}`, code: errorCode(error) }))
      .finally(() => {
        inFlight.delete(leaseId);
        // Report the outcome at once rather than a full interval later.
        session.sleeper.wake();
      });
    inFlight.set(leaseId, entry);
  }

  function launch(action: ReconcileAction): void {
    if (action.kind === 'start') {
      const { spec, leaseId } = action;
      track(leaseId, 'starting', async (entry) => {
        const started = now();
        try {
          if (!(await runtime.imageExists(spec.image))) {
            entry.phase = 'pulling';
            emit({ type: 'pull-started', leaseId, image: spec.image });
            const pullStart = now();
            await runtime.pull(spec.image, (progress) => emit({ type: 'pull-progress', leaseId, image: spec.image, progress }), session.workController.signal);
            emit({ type: 'pull-finished', leaseId, image: spec.image, ms: now() - pullStart });
            entry.phase = 'starting';
          }
          const containerId = await runtime.run(spec);
          delete failures[leaseId];
          emit({ type: 'container-started', leaseId, containerId, image: spec.image, ms: now() - started });
        } catch (error) {
          const failure = nextStartFailure(failures[leaseId], errorText(error), now());
          failures[leaseId] = failure;
          emit({ type: 'container-start-failed', leaseId, error: errorText(error), code: errorCode(error), attempts: failure.attempts, retryInMs: failure.retryAfter - now() });
        }
      });
    } else if (action.kind === 'stop') {
      track(action.leaseId, 'stopping', async () => {
        await runtime.stop(action.containerId, stopTimeoutSec);
        emit({ type: 'container-stopped', leaseId: action.leaseId, containerId: action.containerId });
        await logs.uploadFinal({ id: action.containerId, leaseId: action.leaseId });
        await runtime.remove(action.containerId);
        delete session.state.logCursors[action.leaseId];
        session.stateDirty = true;
        emit({ type: 'container-removed', leaseId: action.leaseId, containerId: action.containerId, reason: action.reason });
      });
    } else {
      track(action.leaseId, 'removing', async () => {
        if (action.reason === 'unassigned') await logs.uploadFinal({ id: action.containerId, leaseId: action.leaseId });
        await runtime.remove(action.containerId);
        if (action.reason === 'unassigned') {
          delete session.state.logCursors[action.leaseId];
          session.stateDirty = true;
        }
        emit({ type: 'container-removed', leaseId: action.leaseId, containerId: action.containerId, reason: action.reason });
      });
    }
  }

  async function settle(): Promise<void> {
    await Promise.all([...inFlight.values()].map((entry) => entry.done));
  }

  return { inFlight, failures, launch, settle };
}
