// The coordinator's periodic work, started and stopped in one place: flushing buffered heartbeats, the sweep (offline
// nodes, ended leases, metering once per metering interval) with the liveness probes checked beside it, and retrying
// payouts left open. A timer never overlaps itself; failures are reported and the next tick tries again.
import type { LeaseExec } from '../evidence.js';
import type { CoordinatorConfig } from '../options.js';
import type { CoordinatorService } from '../service.js';

export interface BackgroundWork {
  /** Run the sweep now (tests; the timer does it otherwise); sweeps never overlap. */
  sweep(): Promise<Awaited<ReturnType<CoordinatorService['sweep']>>>;
  /** Stop the timers and wait for what they started. */
  stop(): Promise<void>;
}

export interface BackgroundOptions {
  service: CoordinatorService;
  /** Runs commands in lease containers through this replica's relay links (probe checks). */
  relay: LeaseExec;
  config: Pick<CoordinatorConfig, 'heartbeatFlushMs' | 'sweepIntervalMs' | 'meteringIntervalMs' | 'payoutRetryMs'>;
  now: () => number;
  /** Also run on every sweep (housekeeping of in-memory state). */
  onSweep?(): void;
  onError(error: unknown, where: string): void;
}

export function startBackgroundWork({ service, relay, config, now, onSweep, onError }: BackgroundOptions): BackgroundWork {
  const timers: NodeJS.Timeout[] = [];
  const inFlight = new Set<Promise<unknown>>();
  let sweeping: Promise<unknown> = Promise.resolve();
  let lastMeter = now();

  const sweep = () => {
    const meter = now() - lastMeter >= config.meteringIntervalMs;
    if (meter) lastMeter = now();
    const run = sweeping.then(() => service.sweep({ meter }));
    sweeping = run.catch((error) => onError(error, 'sweep'));
    // Liveness probes are checked inside the containers through the relay, beside the sweep (an exec may take seconds).
    const probes = run.then(() => service.checkProbesThroughRelay(relay)).catch((error) => onError(error, 'probe check'));
    inFlight.add(probes);
    void probes.finally(() => inFlight.delete(probes));
    onSweep?.();
    return run;
  };

  const every = (ms: number, work: () => Promise<unknown>, where: string) => {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      const run = work()
        .catch((error) => onError(error, where))
        .finally(() => {
          busy = false;
          inFlight.delete(run);
        });
      inFlight.add(run);
    }, ms);
    timer.unref();
    timers.push(timer);
  };

  every(config.heartbeatFlushMs, () => service.flushHeartbeats(), 'heartbeat flush');
  every(config.sweepIntervalMs, () => sweep(), 'sweep');
  const retryMs = config.payoutRetryMs;
  if (retryMs !== undefined) {
    every(retryMs, async () => {
      await service.retryStalePayouts(retryMs * 2);
      await service.recoverPayments();
    }, 'payout retry');
  }

  return {
    sweep,
    stop: async () => {
      for (const timer of timers) clearInterval(timer);
      await Promise.all([...inFlight]);
      await sweeping;
    },
  };
}
