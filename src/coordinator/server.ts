// The coordinator HTTP service: wires the store, the service, authentication, the route table, the relay and the
// background work together. Each part lives in its own module (src/coordinator/http/).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { openDatabase, type Engine } from './db.js';
import { createApp, routeUpgrades } from './http/app.js';
import { Authenticator } from './http/auth.js';
import { startBackgroundWork } from './http/background.js';
import { IdempotencyRecords } from './http/idempotency.js';
import { TokenBuckets } from './http/rate-limit.js';
import { ROUTES, type RouteDeps } from './http/route-table.js';
import { registerRoutes } from './http/routes.js';
import { shutdownOnce } from './http/shutdown.js';
import { HeartbeatSessions } from './heartbeat-sessions.js';
import { databaseSessionPersistence } from './session-store.js';
import { createFaucetGrants } from './faucet.js';
import { Metrics } from './metrics.js';
import { createRelay, type Relay } from './relay.js';
import { buildOpenApiDocument } from './openapi.js';
import { CoordinatorService } from './service.js';
import { bondSettings, bondTerms } from './bonds.js';
import { coordinatorConfig, httpUrl, type CoordinatorOptions } from './options.js';

export type { CoordinatorOptions, NetworkOptions } from './options.js';

export interface CoordinatorServer {
  url: string;
  port: number;
  engine: Engine['kind'];
  service: CoordinatorService;
  app: FastifyInstance;
  relay: Relay;
  /** Run the periodic work now (tests; the timers do it otherwise). */
  sweep(): Promise<Awaited<ReturnType<CoordinatorService['sweep']>>>;
  close(): Promise<void>;
}

function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) return (JSON.parse(readFileSync(candidate, 'utf8')) as { version?: string }).version ?? '0.0.0';
    dir = dirname(dir);
  }
  return '0.0.0';
}

export async function startCoordinator(options: CoordinatorOptions = {}): Promise<CoordinatorServer> {
  const config = coordinatorConfig(options);
  const now = options.now ?? Date.now;
  const report = options.onError ?? ((error: unknown, where: string) => process.stderr.write(`coordinator ${where}: ${(error as Error)?.stack ?? String(error)}\n`));
  const version = packageVersion();
  const metrics = new Metrics({ version, engine: options.databaseUrl ? 'postgres' : 'sqlite' });
  // Every failure the server survives is counted for /metrics as well as reported.
  const onError = (error: unknown, where: string) => {
    metrics.countError(where);
    report(error, where);
  };

  const engine = await openDatabase({ dataDir: options.dataDir, databaseUrl: options.databaseUrl, maxConnections: options.maxConnections, onQuery: (ms, failed) => metrics.observeQuery(ms / 1000, failed) }).catch((error: unknown) => {
    metrics.close();
    throw error;
  });
  const service = new CoordinatorService(engine, {
    dev: config.dev,
    feeBps: config.feeBps,
    treasuryAccount: config.network.treasury ?? 'treasury',
    heartbeatGraceMs: config.heartbeatGraceMs,
    quoteTtlMs: options.quoteTtlMs ?? 5 * 60_000,
    ...(options.quoteHoldsPerRenter !== undefined ? { quoteHoldsPerRenter: options.quoteHoldsPerRenter } : {}),
    assignmentCacheMs: options.assignmentCacheMs ?? 1_000,
    paymentVerifier: options.paymentVerifier,
    payoutSender: options.payoutSender,
    challenges: options.challenges,
    bonds: options.bonds,
    evidence: options.evidence,
    onError,
    now,
  });
  const sessions = new HeartbeatSessions({ ttlMs: config.sessionTtlMs, maxSkewMs: config.maxClockSkewMs, now, persistence: databaseSessionPersistence(engine.db) });
  const limits = config.rateLimits;
  let listening: { host: string; port: number } | undefined;
  const relay = createRelay({
    db: engine.db,
    limits: options.relayLimits,
    // Replicas share only PostgreSQL; this replica's own address is the default way the others reach it, unless it
    // listens on a wildcard address (then only --replica-url can say how it is reached).
    replicaUrl: () => options.replicaUrl ?? (listening && engine.kind === 'postgres' && !['0.0.0.0', '::'].includes(listening.host) ? httpUrl(listening.host, listening.port) : undefined),
    now,
    onError,
  });
  const auth = new Authenticator({
    now,
    maxSkewMs: config.maxClockSkewMs,
    sessions,
    useNonce: (publicKey, nonce, expiresAt) => service.useNonce(publicKey, nonce, expiresAt),
    identityLimit: limits && new TokenBuckets(limits.perIdentity, { now, maxKeys: limits.maxKeys }),
    forwardedRenter: (headers) => relay.forwardedRenter(headers),
  });
  const idempotency = new IdempotencyRecords({ db: engine.db, now, claimMs: config.idempotencyClaimMs });
  const closing = new AbortController();
  const startedAt = Date.now();
  let openapi: Record<string, unknown> | undefined;
  const deps: RouteDeps = {
    service,
    sessions,
    relay,
    metrics,
    faucet: createFaucetGrants({ dev: config.dev, faucet: options.faucet, decimals: config.network.decimals, perMinute: config.faucetPerMinute, maxTokens: 1_000_000, now }),
    health: () => ({ status: 'ok', version, engine: engine.kind, uptimeS: Math.round((Date.now() - startedAt) / 1000) }),
    network: { ...config.network, feeBps: config.feeBps, dev: config.dev, faucet: config.dev && options.faucet !== undefined, bonds: bondTerms(bondSettings({ options }), config.dev) },
    openapi: () => (openapi ??= buildOpenApiDocument(version)),
    closing: closing.signal,
  };

  const app = createApp({ bodyLimitBytes: config.bodyLimitBytes, trustedProxies: options.trustedProxies, metrics, addressLimit: limits && new TokenBuckets(limits.perAddress, { now, maxKeys: limits.maxKeys }), onError });
  registerRoutes(app, ROUTES, { auth, idempotency, deps });
  routeUpgrades(app);

  try {
    await service.recoverClaims();
    await service.recoverPayments();
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await relay.close().catch(() => {});
    await app.close().catch(() => {});
    await engine.close();
    metrics.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  listening = { host: config.host, port };
  const background = startBackgroundWork({ service, relay, config, now, onSweep: () => auth.pruneNonces(), onError });
  return {
    url: httpUrl(config.host, port),
    port,
    engine: engine.kind,
    service,
    app,
    relay,
    sweep: () => background.sweep(),
    close: shutdownOnce({ background, idempotency, closing, relay, app, service, engine, metrics, onError }),
  };
}
