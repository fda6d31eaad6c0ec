// The fastify instance and everything every route shares: JSON-only bodies, the per-address rate limit, metrics per
// route, and the one mapping from any error to a status and the error body (src/coordinator/http-error.ts).
// WebSocket upgrades go through the same router (and so the same hooks) as plain requests: see routeUpgrades.
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { errorBody, HttpError } from '../http-error.js';
import type { Metrics } from '../metrics.js';
import type { TokenBuckets } from './rate-limit.js';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
}

/** A WebSocket upgrade in progress: the raw socket and the bytes read past the request head. */
export interface Upgrade {
  request: IncomingMessage;
  socket: Duplex;
  head: Buffer;
}

const UPGRADE = Symbol('iocli.upgrade');
type UpgradingMessage = IncomingMessage & { [UPGRADE]?: Upgrade };

/** The upgrade a request carries, if it came in as one (see routeUpgrades). */
export function upgradeOf(request: FastifyRequest): Upgrade | undefined {
  return (request.raw as UpgradingMessage)[UPGRADE];
}

export interface AppOptions {
  bodyLimitBytes: number;
  trustedProxies?: string[];
  metrics: Metrics;
  /** Per client address, before authentication (undefined: no limit). */
  addressLimit?: TokenBuckets;
  /** A failure the server survives (answered 500). */
  onError(error: unknown, where: string): void;
}

export function createApp(options: AppOptions): FastifyInstance {
  const { metrics, addressLimit } = options;
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimitBytes, forceCloseConnections: true, trustProxy: options.trustedProxies?.length ? options.trustedProxies : false });

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
    const answer = httpErrorOf(error, options.onError);
    return reply.code(answer.status).send(errorBody(answer));
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send(errorBody(new HttpError(404, 'NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`))));
  return app;
}

/** Any thrown value as the HttpError answered for it: fastify's own 4xx keep their status, anything else is a 500 (reported once). */
function httpErrorOf(error: unknown, onError: AppOptions['onError']): HttpError {
  if (error instanceof HttpError) return error;
  const e = error as { statusCode?: number; code?: string; message?: string };
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    const message = e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'The request body is too large.' : e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'Send JSON (content-type: application/json).' : (e.message ?? 'Bad request');
    return new HttpError(e.statusCode, e.code ?? 'BAD_REQUEST', message);
  }
  onError(error, 'request');
  return new HttpError(500, 'INTERNAL', 'Internal error in the coordinator.');
}

/**
 * Sends the server's WebSocket upgrades through the fastify router, like @fastify/websocket does: the request gets a
 * response bound to its socket, so the per-address limit, metrics, authentication and error bodies are those of every
 * other route. A route that accepts the upgrade hijacks the reply (routeTable: `websocket`); any other answer is an
 * ordinary HTTP response, after which the socket is closed.
 */
export function routeUpgrades(app: FastifyInstance): void {
  app.server.on('upgrade', (request: UpgradingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {});
    request[UPGRADE] = { request, socket, head };
    const response = new ServerResponse(request);
    response.shouldKeepAlive = false;
    response.assignSocket(socket);
    response.once('finish', () => socket.end());
    app.routing(request, response);
  });
}
