// Closing the coordinator, in the order that loses nothing: stop taking work (timers, streams, requests), let what
// runs finish (background work, payouts for a while), write what is buffered, then close the store.
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../db.js';
import type { Metrics } from '../metrics.js';
import type { Relay } from '../relay.js';
import type { CoordinatorService } from '../service.js';
import type { BackgroundWork } from './background.js';
import type { IdempotencyRecords } from './idempotency.js';

export interface RunningParts {
  background: BackgroundWork;
  idempotency: IdempotencyRecords;
  /** Aborted first: long-polls end rather than holding the close up for their full wait. */
  closing: AbortController;
  relay: Relay;
  app: FastifyInstance;
  service: CoordinatorService;
  engine: Engine;
  metrics: Metrics;
  onError(error: unknown, where: string): void;
}

/** A close() that runs once however often it is called. */
export function shutdownOnce(parts: RunningParts): () => Promise<void> {
  let closed: Promise<void> | undefined;
  return () => (closed ??= shutdown(parts));
}

async function shutdown({ background, idempotency, closing, relay, app, service, engine, metrics, onError }: RunningParts): Promise<void> {
  const backgroundDone = background.stop();
  idempotency.close();
  closing.abort();
  await relay.close();
  await app.close();
  await backgroundDone;
  // Background refunds finish or are left to the next start's recovery (they are in the outbox either way).
  if (service.payouts) await Promise.race([service.payouts.idle(), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  await service.flushHeartbeats().catch((error) => onError(error, 'final flush'));
  await engine.close();
  metrics.close();
}
