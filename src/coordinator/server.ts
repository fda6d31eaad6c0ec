// The coordinator HTTP service: fastify routes over CoordinatorService, request signing, idempotency, rate limits, metrics.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import * as schemas from '../api/schemas.js';
import { verifySignedRequest } from '../api/signing.js';
import { openDatabase, type Engine } from './db.js';
import { HttpError } from './http-error.js';
import { IdempotencyRecords } from './http/idempotency.js';
import { TokenBuckets, type RateLimit } from './http/rate-limit.js';
import { parseQuietHeartbeat } from './heartbeat-input.js';
import { HeartbeatSessions, type SessionAuthResult } from './heartbeat-sessions.js';
import { databaseSessionPersistence } from './session-store.js';
import { registerFaucetRoute } from './faucet.js';
import type { Faucet, PaymentVerifier, PayoutSender } from './hooks.js';
import type { PayoutTestPauses } from './payouts.js';
import { Metrics } from './metrics.js';
import { attachRelay, type Relay, type RelayLimits } from './relay.js';
import { buildOpenApiDocument } from './openapi.js';
import { CoordinatorService } from './service.js';
import type { ChallengeSettings } from './challenges.js';
import type { EvidenceSettings } from './evidence.js';
import { bondSettings, bondTerms, type BondSettings } from './bonds.js';

export interface NetworkOptions {
  cluster: string;
  rpcUrl: string;
  mint: string | null;
  decimals: number;
  treasury: string | null;
  /** Ticker of the payment token, for display. */
  symbol: string;
}

export interface CoordinatorOptions {
  port?: number;
  host?: string;
  /** SQLite data directory (ignored when databaseUrl is set). */
  dataDir?: string;
  databaseUrl?: string;
  /** Development mode: simulated GPUs and unpaid leases (without a payment verifier) are accepted. */
  dev?: boolean;
  network?: Partial<NetworkOptions>;
  feeBps?: number;
  heartbeatGraceMs?: number;
  /** How often buffered heartbeats are written (≤ 1 s). */
  heartbeatFlushMs?: number;
  sweepIntervalMs?: number;
  meteringIntervalMs?: number;
  quoteTtlMs?: number;
  /** GPUs one renter's live quotes may hold at once (default 64); quotes beyond it are priced but hold nothing. */
  quoteHoldsPerRenter?: number;
  assignmentCacheMs?: number;
  maxClockSkewMs?: number;
  /** How long a heartbeat session lasts before the agent must open a new one (default 1 h). */
  sessionTtlMs?: number;
  /**
   * Token buckets (false turns limiting off): per client address before authentication, on every route but /healthz
   * (default 1000/s, burst 2000), and per verified identity after a signature or session check (default 200/s, burst
   * 400); at most maxKeys buckets each (least recently used dropped first; default 100,000).
   */
  rateLimit?: { perAddress?: RateLimit; perIdentity?: RateLimit; maxKeys?: number } | false;
  /**
   * Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client, for the per-address limit and the
   * faucet's; without it every client behind a proxy shares the proxy's address. Default: none trusted.
   */
  trustedProxies?: string[];
  bodyLimitBytes?: number;
  /** How long an in-progress Idempotency-Key record holds without its process renewing it (default 60 s). */
  idempotencyClaimMs?: number;
  paymentVerifier?: PaymentVerifier;
  payoutSender?: PayoutSender;
  /** Dev only: hands out test tokens (the coordinator holds the mint authority). */
  faucet?: Faucet;
  /** Faucet grants per address and per client IP per minute (default 10). */
  faucetPerMinute?: number;
  /** How often payouts left open (failed send, crash) are retried (default 15 s). */
  payoutRetryMs?: number;
  /** Crash tests only: pause around payout sends. */
  payoutPauses?: PayoutTestPauses;
  /** GPU challenge timing (src/coordinator/challenges.ts). */
  challenges?: Partial<ChallengeSettings>;
  /** GPU bonds (src/coordinator/bonds.ts). */
  bonds?: Partial<BondSettings>;
  /** Liveness probes of running leases (src/coordinator/evidence.ts). */
  evidence?: Partial<EvidenceSettings>;
  maxConnections?: number;
  /** Relay (lease exec / port-forward) stream limits and idle timeout. */
  relayLimits?: Partial<RelayLimits>;
  /**
   * This replica's URL as the other replicas reach it: set it when several replicas share one PostgreSQL database, so a
   * renter's stream landing here is forwarded to the replica holding the agent's relay link.
   */
  replicaUrl?: string;
  now?: () => number;
  /** Background-task failures (the server keeps running). */
  onError?: (error: unknown, where: string) => void;
}

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

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
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

function formatZodError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`).join('; ');
}

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value ?? (where === 'body' ? {} : value));
  if (!result.success) throw new HttpError(400, 'BAD_REQUEST', `Invalid ${where}: ${formatZodError(result.error)}`, undefined, { issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
  return result.data;
}

export async function startCoordinator(options: CoordinatorOptions = {}): Promise<CoordinatorServer> {
  const now = options.now ?? Date.now;
  const dev = options.dev ?? false;
  const feeBps = options.feeBps ?? 500;
  const heartbeatGraceMs = options.heartbeatGraceMs ?? 30_000;
  const maxSkew = options.maxClockSkewMs ?? 60_000;
  const report = options.onError ?? ((error: unknown, where: string) => process.stderr.write(`coordinator ${where}: ${(error as Error)?.stack ?? String(error)}\n`));
  const version = packageVersion();
  const metrics = new Metrics({ version, engine: options.databaseUrl ? 'postgres' : 'sqlite' });
  // Every failure the server survives is counted for /metrics as well as reported.
  const onError = (error: unknown, where: string) => {
    metrics.countError(where);
    report(error, where);
  };
  const network: NetworkOptions = {
    cluster: options.network?.cluster ?? (dev ? 'localnet' : 'devnet'),
    rpcUrl: options.network?.rpcUrl ?? (dev ? 'http://127.0.0.1:8899' : 'https://api.devnet.solana.com'),
    mint: options.network?.mint ?? null,
    decimals: options.network?.decimals ?? 6,
    treasury: options.network?.treasury ?? null,
    symbol: options.network?.symbol ?? 'IOC',
  };

  const engine = await openDatabase({ dataDir: options.dataDir, databaseUrl: options.databaseUrl, maxConnections: options.maxConnections, onQuery: (ms, failed) => metrics.observeQuery(ms / 1000, failed) }).catch((error: unknown) => {
    metrics.close();
    throw error;
  });
  const service = new CoordinatorService(engine, {
    dev,
    feeBps,
    treasuryAccount: network.treasury ?? 'treasury',
    heartbeatGraceMs,
    quoteTtlMs: options.quoteTtlMs ?? 5 * 60_000,
    ...(options.quoteHoldsPerRenter !== undefined ? { quoteHoldsPerRenter: options.quoteHoldsPerRenter } : {}),
    assignmentCacheMs: options.assignmentCacheMs ?? 1_000,
    paymentVerifier: options.paymentVerifier,
    payoutSender: options.payoutSender,
    payoutPauses: options.payoutPauses,
    challenges: options.challenges,
    bonds: options.bonds,
    evidence: options.evidence,
    onError,
    now,
  });
  const sessions = new HeartbeatSessions({ ttlMs: options.sessionTtlMs ?? 60 * 60_000, maxSkewMs: maxSkew, now, persistence: databaseSessionPersistence(engine.db) });
  // Long-polls end when the server closes rather than holding close() up for their full wait.
  const closing = new AbortController();
  const keyCache = new Map<string, KeyObject>();
  const recentNonces = new Map<string, number>();
  const idempotency = new IdempotencyRecords({ db: engine.db, now, claimMs: options.idempotencyClaimMs ?? 60_000 });
  const limits = options.rateLimit === false ? undefined : { perAddress: { perSecond: 1_000, burst: 2_000 }, perIdentity: { perSecond: 200, burst: 400 }, maxKeys: 100_000, ...options.rateLimit };
  const addressLimit = limits && new TokenBuckets(limits.perAddress, { now, maxKeys: limits.maxKeys });
  const identityLimit = limits && new TokenBuckets(limits.perIdentity, { now, maxKeys: limits.maxKeys });
  /** After authentication: the verified identity's own bucket (forged or unsigned requests never reach it). */
  const limitIdentity = (identity: string): void => {
    if (identityLimit && !identityLimit.take(identity)) throw new HttpError(429, 'RATE_LIMITED', 'Too many requests for this wallet; slow down.', 'Retry after a second.');
  };
  const startedAt = Date.now();
  let openapi: Record<string, unknown> | undefined;

  const app = Fastify({ logger: false, bodyLimit: options.bodyLimitBytes ?? 1024 * 1024, forceCloseConnections: true, trustProxy: options.trustedProxies?.length ? options.trustedProxies : false });

  // JSON only: a body of any other type is a 415, never parsed as text and then failing the signature check as a 401.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    request.rawBody = text;
    if (text.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new HttpError(400, 'BAD_JSON', 'The request body is not valid JSON.'), undefined);
    }
  });

  // Hooks are callback-style and registered only when needed: an async hook costs a promise on every request.
  // Before authentication only the client address is known: headers naming a key or session are not trusted yet.
  if (addressLimit) app.addHook('onRequest', (request, reply, done) => {
    if (request.url === '/healthz') return done();
    if (addressLimit.take(request.ip)) return done();
    reply.header('retry-after', '1');
    done(new HttpError(429, 'RATE_LIMITED', 'Too many requests from this address; slow down.', 'Retry after a second.'));
  });

  // Each route gets its own onResponse hook that knows its URL (request.routeOptions builds an object per call); the
  // global hook counts only what matched no route.
  app.addHook('onRoute', (route) => {
    const url = route.url;
    const observe = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      metrics.observe(request.method, url, reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
    route.onResponse = route.onResponse === undefined ? observe : [...(Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse]), observe];
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) metrics.observe(request.method, 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler((error: unknown, _request, reply) => {
    if (error instanceof HttpError) {
      return reply.code(error.status).send({ error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}), ...(error.details !== undefined ? { details: error.details } : {}) } });
    }
    const e = error as { statusCode?: number; code?: string; message?: string };
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      const message = e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'The request body is too large.' : e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'Send JSON (content-type: application/json).' : e.message ?? 'Bad request';
      return reply.code(e.statusCode).send({ error: { code: e.code ?? 'BAD_REQUEST', message } });
    }
    onError(error, 'request');
    return reply.code(500).send({ error: { code: 'INTERNAL', message: 'Internal error in the coordinator.' } });
  });

  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: { code: 'NOT_FOUND', message: `No route ${request.method} ${request.url.split('?')[0]}.` } }));

  /**
   * Verify the signature and burn the nonce; returns the caller's public key. The nonce is written to the database before
   * the request is served (node routes included), so a captured request replays neither after a restart nor on another replica.
   */
  async function authenticate(request: Pick<FastifyRequest, 'method' | 'url' | 'headers' | 'rawBody'>): Promise<string> {
    const result = verifySignedRequest(request.method, request.url, request.headers, request.rawBody ?? '', { now: now(), maxSkewMs: maxSkew, keyCache });
    if (!result.ok) throw new HttpError(401, result.reason === 'skew' ? 'CLOCK_SKEW' : 'UNAUTHORIZED', result.message);
    limitIdentity(result.publicKey);
    const nonceKey = `${result.publicKey}:${result.nonce}`;
    if (recentNonces.has(nonceKey)) throw new HttpError(401, 'REPLAYED', 'This request nonce was already used (replay).');
    const expiresAt = result.timestamp + maxSkew + 1_000;
    if (recentNonces.size > 500_000) pruneNonces();
    recentNonces.set(nonceKey, expiresAt);
    if (!(await service.useNonce(result.publicKey, result.nonce, expiresAt))) {
      throw new HttpError(401, 'REPLAYED', 'This request nonce was already used (replay).');
    }
    return result.publicKey;
  }

  function pruneNonces(): void {
    const t = now();
    for (const [key, expiry] of recentNonces) if (expiry < t) recentNonces.delete(key);
  }

  type Handler = (request: FastifyRequest, actor: string) => Promise<unknown>;
  type NodeHandler = (request: FastifyRequest, actor: string, reply: FastifyReply) => Promise<unknown>;

  function sessionOwner(result: SessionAuthResult): string {
    if (result.ok) {
      limitIdentity(result.owner);
      return result.owner;
    }
    const hint = result.code === 'SESSION_UNKNOWN' || result.code === 'SESSION_EXPIRED' ? 'Open a new session (POST /v1/nodes/:id/sessions).' : result.code === 'SEQ_BEHIND' ? 'Send the next request with x-iocli-seq = details.nextSeq.' : undefined;
    throw new HttpError(401, result.code, result.message, hint, result.code === 'SEQ_BEHIND' ? { nextSeq: result.nextSeq } : undefined);
  }

  /** A node's own routes (heartbeat, assignments): a session MAC when the request carries one, else an ed25519 signature. */
  async function authenticateNode(request: FastifyRequest): Promise<string> {
    if (!HeartbeatSessions.present(request.headers)) return authenticate(request);
    return sessionOwner(await sessions.authenticate(request.method, request.url, params(request).id!, request.headers, request.rawBody ?? ''));
  }

  function nodeRoute(method: 'GET' | 'POST', url: string, handler: NodeHandler, routeOptions: { bodyLimit?: number } = {}) {
    app.route({ method, url, ...routeOptions, handler: async (request: FastifyRequest, reply: FastifyReply) => handler(request, await authenticateNode(request), reply) });
  }

  /**
   * A signed route; POSTs honour Idempotency-Key (same key + same wallet → the first response again; see
   * http/idempotency.ts). `resume` answers a retry that takes over from a process that died mid-request.
   */
  function signed(method: 'GET' | 'POST', url: string, handler: Handler, opts: { resume?: (request: FastifyRequest, actor: string, since: number) => Promise<unknown> } = {}) {
    app.route({
      method,
      url,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const actor = await authenticate(request);
        const key = request.headers['idempotency-key'];
        if (method !== 'POST' || typeof key !== 'string' || key.length === 0) return handler(request, actor);
        const resume = opts.resume;
        return idempotency.handle({ actor, key, method, path: request.url, run: () => handler(request, actor), resume: resume && ((since) => resume(request, actor, since)) }, reply);
      },
    });
  }

  // Ids in paths are ids: NUL (which PostgreSQL refuses with an error) or any other character is a 400 on both engines.
  const PATH_ID = /^[A-Za-z0-9_.:-]{1,100}$/;
  const params = (request: FastifyRequest) => {
    const values = request.params as Record<string, string>;
    for (const key in values) {
      if (!PATH_ID.test(values[key]!)) throw new HttpError(400, 'BAD_REQUEST', `Invalid ${key} in the path: ids are 1-100 letters, digits, _ . : or -.`);
    }
    return values;
  };

  app.get('/healthz', async () => ({ status: 'ok', version, engine: engine.kind, uptimeS: Math.round((Date.now() - startedAt) / 1000) }));
  app.get('/metrics', async (_request, reply) => {
    reply.type('text/plain; version=0.0.4');
    return metrics.render(await service.gauges());
  });
  app.get('/v1/openapi.json', async () => (openapi ??= buildOpenApiDocument(version)));
  const bonds = bondTerms(bondSettings({ options }), dev);
  app.get('/v1/network', async () => ({ ...network, feeBps, dev, faucet: dev && options.faucet !== undefined, bonds }));
  registerFaucetRoute(app, { dev, faucet: options.faucet, decimals: network.decimals, perMinute: options.faucetPerMinute ?? 10, maxTokens: 1_000_000, now });
  app.get('/v1/offers', async (request) => ({ offers: await service.offers(parse(schemas.offersQuerySchema, request.query, 'query')) }));

  signed('POST', '/v1/nodes', async (request, actor) => service.registerNode(actor, parse(schemas.registerNodeSchema, request.body, 'body')));
  signed('GET', '/v1/nodes/:id', async (request, actor) => service.nodeDetail(params(request).id!, actor));
  signed('POST', '/v1/nodes/:id/sessions', async (request, actor) => {
    const body = parse(schemas.openSessionSchema, request.body, 'body');
    await service.requireNodeOwner(params(request).id!, actor);
    try {
      return await sessions.open(params(request).id!, actor, body.publicKey);
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw new HttpError(400, 'BAD_REQUEST', 'publicKey is not a usable X25519 public key.');
    }
  });
  // The hot path (thousands a second): no promise unless the session must be loaded or the heartbeat needs writes, and
  // the common reply is sent as JSON serialised once per assignment snapshot.
  const heartbeatReply = (request: FastifyRequest, reply: FastifyReply, nodeId: string, actor: string): unknown => {
    const input = parseQuietHeartbeat(request.body) ?? parse(schemas.heartbeatSchema, request.body, 'body');
    const json = service.quietHeartbeat(nodeId, actor, input);
    if (json === undefined) return service.heartbeat(nodeId, actor, input);
    reply.type('application/json; charset=utf-8').send(json);
    return undefined;
  };
  app.route({
    method: 'POST',
    url: '/v1/nodes/:id/heartbeat',
    handler: (request: FastifyRequest, reply: FastifyReply) => {
      const nodeId = params(request).id!;
      if (!HeartbeatSessions.present(request.headers)) return authenticate(request).then((actor) => heartbeatReply(request, reply, nodeId, actor));
      const result = sessions.check(request.method, request.url, nodeId, request.headers, request.rawBody ?? '');
      if (result instanceof Promise) return result.then((r) => heartbeatReply(request, reply, nodeId, sessionOwner(r)));
      return heartbeatReply(request, reply, nodeId, sessionOwner(result));
    },
  });
  nodeRoute('GET', '/v1/nodes/:id/assignments', async (request, actor, reply) => {
    const query = parse(schemas.assignmentsQuerySchema, request.query, 'query');
    // A client that goes away ends its wait (no timer or waiter is left behind).
    const gone = new AbortController();
    reply.raw.once('close', () => gone.abort());
    return service.waitForAssignments(params(request).id!, actor, query.after, query.waitMs, AbortSignal.any([gone.signal, closing.signal]));
  });
  nodeRoute('POST', '/v1/nodes/:id/challenges/:challengeId/commit', async (request, actor) =>
    service.commitChallenge(params(request).id!, actor, params(request).challengeId!, parse(schemas.challengeCommitSchema, request.body, 'body')),
  );
  nodeRoute('POST', '/v1/nodes/:id/challenges/:challengeId/answer', async (request, actor) =>
    service.answerChallenge(params(request).id!, actor, params(request).challengeId!, parse(schemas.challengeAnswerSchema, request.body, 'body')),
    // 40 openings (leaf + Merkle path) per GPU, up to 64 GPUs: about 80 kB per GPU at real-GPU sizes.
    { bodyLimit: 16 * 1024 * 1024 },
  );
  nodeRoute('POST', '/v1/nodes/:id/probes/:probeId', async (request, actor) =>
    service.answerProbe(params(request).id!, actor, params(request).probeId!, parse(schemas.probeAnswerSchema, request.body, 'body')),
  );
  signed('GET', '/v1/nodes/:id/why', async (request, actor) => service.explainNode(params(request).id!, actor));
  signed('GET', '/v1/nodes/:id/bond', async (request, actor) => service.nodeBond(params(request).id!, actor));
  signed('POST', '/v1/nodes/:id/bond', async (request, actor) => service.bond(params(request).id!, actor, parse(schemas.bondRequestSchema, request.body, 'body')));
  signed('POST', '/v1/nodes/:id/unbond', async (request, actor) => service.unbond(params(request).id!, actor, parse(schemas.unbondRequestSchema, request.body, 'body')));
  signed('POST', '/v1/nodes/:id/leases/:leaseId/logs', async (request, actor) => {
    const body = parse(schemas.uploadLogsSchema, request.body, 'body');
    await service.uploadLogs(params(request).id!, actor, params(request).leaseId!, body.chunks);
    return { ok: true };
  });
  signed('POST', '/v1/leases/quote', async (request, actor) => service.quote(actor, parse(schemas.quoteRequestSchema, request.body, 'body')));
  signed('POST', '/v1/leases', async (request, actor) => service.createLease(actor, parse(schemas.createLeaseSchema, request.body, 'body')), {
    resume: async (request, actor) => service.leaseForQuote(actor, parse(schemas.createLeaseSchema, request.body, 'body').quoteId),
  });
  signed('GET', '/v1/leases', async (request, actor) => ({ leases: await service.listLeases(actor, parse(schemas.leasesQuerySchema, request.query, 'query').all) }));
  signed('GET', '/v1/leases/:id', async (request, actor) => service.getLease(actor, params(request).id!));
  signed('GET', '/v1/leases/:id/logs', async (request, actor) => service.leaseLogs(actor, params(request).id!, parse(schemas.logsQuerySchema, request.query, 'query')));
  signed('POST', '/v1/leases/:id/extend', async (request, actor) => service.extendLease(actor, params(request).id!, parse(schemas.extendLeaseSchema, request.body, 'body')));
  signed('POST', '/v1/leases/:id/stop', async (request, actor) => service.stopLease(actor, params(request).id!));
  signed('GET', '/v1/rewards', async (_request, actor) => service.rewards(actor));
  signed('POST', '/v1/rewards/claim', async (_request, actor) => service.claim(actor), { resume: async (_request, actor, since) => service.claimSince(actor, since) });

  const timers: NodeJS.Timeout[] = [];
  const inFlight = new Set<Promise<unknown>>();
  let sweeping: Promise<unknown> = Promise.resolve();
  let lastMeter = now();
  const meteringIntervalMs = options.meteringIntervalMs ?? 60_000;
  const runSweep = () => {
    const meter = now() - lastMeter >= meteringIntervalMs;
    if (meter) lastMeter = now();
    const run = sweeping.then(() => service.sweep({ meter }));
    sweeping = run.catch((error) => onError(error, 'sweep'));
    // Liveness probes are checked inside the containers through the relay, beside the sweep (an exec may take seconds).
    const probes = run.then(() => service.checkProbesThroughRelay(relay)).catch((error) => onError(error, 'probe check'));
    inFlight.add(probes);
    void probes.finally(() => inFlight.delete(probes));
    pruneNonces();
    return run;
  };
  const every = (ms: number, fn: () => Promise<unknown>, where: string) => {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      const run = fn()
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

  try {
    await service.recoverClaims();
    await service.recoverPayments();
    await app.listen({ port: options.port ?? 8080, host: options.host ?? '127.0.0.1' });
  } catch (error) {
    await app.close().catch(() => {});
    await engine.close();
    metrics.close();
    throw error;
  }
  every(Math.min(1_000, options.heartbeatFlushMs ?? 500), () => service.flushHeartbeats(), 'heartbeat flush');
  every(options.sweepIntervalMs ?? Math.max(50, Math.min(5_000, Math.floor(heartbeatGraceMs / 3))), () => runSweep(), 'sweep');
  if (options.payoutSender) {
    const retryMs = options.payoutRetryMs ?? 15_000;
    every(retryMs, async () => {
      await service.retryStalePayouts(retryMs * 2);
      await service.recoverPayments();
    }, 'payout retry');
  }

  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 8080);
  const host = options.host ?? '127.0.0.1';
  const relay = attachRelay(app.server, {
    db: engine.db,
    authenticate: (method, url, headers) => authenticate({ method, url, headers, rawBody: '' }),
    requireNodeOwner: (nodeId, actor) => service.requireNodeOwner(nodeId, actor),
    limits: options.relayLimits,
    // Replicas share only PostgreSQL; this replica's own address is the default way the others reach it, unless it
    // listens on a wildcard address (then only --replica-url can say how it is reached).
    replicaUrl: options.replicaUrl ?? (engine.kind === 'postgres' && !['0.0.0.0', '::'].includes(host) ? `http://${host.includes(':') ? `[${host}]` : host}:${port}` : undefined),
    now,
    onError,
  });
  let closed = false;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    engine: engine.kind,
    service,
    app,
    relay,
    sweep: () => runSweep(),
    close: async () => {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearInterval(timer);
      idempotency.close();
      closing.abort();
      await relay.close();
      await app.close();
      await Promise.all([...inFlight]);
      // Background refunds finish or are left to the next start's recovery (they are in the outbox either way).
      if (service.payouts) await Promise.race([service.payouts.idle(), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      await sweeping;
      await service.flushHeartbeats().catch((error) => onError(error, 'final flush'));
      await engine.close();
      metrics.close();
    },
  };
}
