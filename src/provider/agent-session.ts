// What the provider agent's parts share while it runs: the mutable loop state, the sleeper, and error helpers.
import type { Verification } from '../api/schemas/nodes.js';
import { UserError } from '../errors.js';
import type { AgentState } from './data-dir.js';
import type { AgentEvent } from './agent-types.js';

export interface Sleeper {
  sleep(ms: number): Promise<void>;
  wake(): void;
}

/** State shared by registration, the heartbeat loop, the assignment watch, convergence and the drain. */
export interface AgentSession {
  emit(event: AgentEvent): void;
  now(): number;
  /** Persisted in the data directory; `stateDirty` says it changed since the loop last saved it. */
  state: AgentState;
  stateDirty: boolean;
  sleeper: Sleeper;
  // While draining, the loop runs on past `signal` until the workloads finish or `forceSignal` aborts.
  loopSignal: AbortSignal;
  draining: boolean;
  /** The assignments version last seen, from a heartbeat reply or the long-poll. */
  version: string | undefined;
  pendingVerification: Verification | undefined;
  // Work in flight (pulls, stops) is cancelled separately from the loop: a drain waits for stops, but aborts pulls.
  workController: AbortController;
}

export function errorCode(error: unknown): string | undefined {
  return error instanceof UserError ? error.code : undefined;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function httpStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown })?.status;
  return typeof status === 'number' ? status : undefined;
}

/** Sleeps `ms`, or less when `wake` is called or `signal` aborts. */
export function createSleeper(signal: AbortSignal): Sleeper {
  let wakeUp: (() => void) | undefined;
  let pendingWake = false;
  return {
    sleep(ms) {
      if (signal.aborted) return Promise.resolve();
      if (pendingWake) {
        pendingWake = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          wakeUp = undefined;
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener('abort', done, { once: true });
        wakeUp = done;
      });
    },
    wake() {
      if (wakeUp) wakeUp();
      else pendingWake = true;
    },
  };
}
