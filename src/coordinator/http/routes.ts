// A declarative route: method, path, schemas, how it is authenticated and what it does. registerRoutes walks a table of
// them and does for each what every route needs: authenticate, check path ids, validate the query and body,
// Idempotency-Key on signed POSTs, WebSocket upgrades. src/coordinator/openapi.ts documents the same table.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { HttpError } from '../http-error.js';
import { upgradeOf, type Upgrade } from './app.js';
import type { Authenticator, AuthKind } from './auth.js';
import type { IdempotencyRecords } from './idempotency.js';

type Output<S> = S extends z.ZodType ? z.output<S> : undefined;

/** An upgrade a WebSocket route may accept: `hijack` takes the socket away from fastify's reply. */
export interface AcceptableUpgrade extends Upgrade {
  hijack(): void;
}

export interface RouteCall<Body = unknown, Query = unknown> {
  request: FastifyRequest;
  reply: FastifyReply;
  /** Path parameters, each checked to be an id (PATH_ID). */
  params: Record<string, string>;
  /** The authenticated caller ('' on public routes). */
  actor: string;
  body: Body;
  query: Query;
  /** WebSocket routes only. */
  upgrade: AcceptableUpgrade | undefined;
}

/** A response that is not JSON described by a schema (/metrics, the OpenAPI document itself). */
export interface RawResponse {
  contentType: string;
  schema: Record<string, unknown>;
}

export interface RouteSpec<Deps, BodySchema extends z.ZodType | undefined = z.ZodType | undefined, QuerySchema extends z.ZodObject | undefined = z.ZodObject | undefined> {
  method: 'GET' | 'POST' | 'DELETE';
  /** fastify syntax (`/v1/leases/:id`). */
  path: string;
  /** The OpenAPI operationId: what a generated client names the call. */
  id: string;
  summary: string;
  auth: AuthKind;
  /** Validates the JSON body (and documents it). */
  body?: BodySchema;
  /** Replaces the body validation (the heartbeat's fast path); `body` still documents it. */
  parseBody?(raw: unknown): Output<BodySchema>;
  /** Validates the query string (and documents it); `queryDoc` only documents one the handler reads itself. */
  query?: QuerySchema;
  queryDoc?: z.ZodObject;
  response: z.ZodType | RawResponse;
  bodyLimit?: number;
  /** A GET that switches to a WebSocket (101); a plain GET is answered 426. */
  websocket?: boolean;
  /** Statuses this route answers besides the ones every route of its kind may (OpenAPI). */
  errors?: Record<string, string>;
  handler(call: RouteCall<Output<BodySchema>, Output<QuerySchema>>, deps: Deps): unknown;
  /** Signed POSTs: answers a retry that takes over from a process that died mid-request (see http/idempotency.ts). */
  resume?(call: RouteCall<Output<BodySchema>, Output<QuerySchema>>, deps: Deps, since: number): Promise<unknown>;
}

/** Typed one route at a time, then kept in a plain list. */
export function route<Deps, BodySchema extends z.ZodType | undefined = undefined, QuerySchema extends z.ZodObject | undefined = undefined>(spec: RouteSpec<Deps, BodySchema, QuerySchema>): RouteSpec<Deps> {
  return spec as unknown as RouteSpec<Deps>;
}

function formatZodError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`).join('; ');
}

/** Validate input; a mismatch is the client's mistake (400, details.issues says which field). */
export function parse<T extends z.ZodType>(schema: T, value: unknown, where: 'body' | 'query'): z.output<T> {
  const result = schema.safeParse(value ?? (where === 'body' ? {} : value));
  if (!result.success) throw new HttpError(400, 'BAD_REQUEST', `Invalid ${where}: ${formatZodError(result.error)}`, undefined, { issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
  return result.data;
}

// Ids in paths are ids: NUL (which PostgreSQL refuses with an error) or any other character is a 400 on both engines.
const PATH_ID = /^[A-Za-z0-9_.:-]{1,100}$/;
function checkedParams(request: FastifyRequest): Record<string, string> {
  const values = request.params as Record<string, string>;
  for (const key in values) {
    if (!PATH_ID.test(values[key]!)) throw new HttpError(400, 'BAD_REQUEST', `Invalid ${key} in the path: ids are 1-100 letters, digits, _ . : or -.`);
  }
  return values;
}

export interface RegisterOptions<Deps> {
  auth: Authenticator;
  idempotency: IdempotencyRecords;
  deps: Deps;
}

export function registerRoutes<Deps>(app: FastifyInstance, routes: ReadonlyArray<RouteSpec<Deps>>, options: RegisterOptions<Deps>): void {
  for (const spec of routes) app.route({ method: spec.method, url: spec.path, ...(spec.bodyLimit ? { bodyLimit: spec.bodyLimit } : {}), handler: routeHandler(spec, options) });
}

function routeHandler<Deps>(spec: RouteSpec<Deps>, { auth, idempotency, deps }: RegisterOptions<Deps>) {
  const { body: bodySchema, parseBody, query: querySchema } = spec;
  /** The handler's view of the request; validating the input here makes a bad body an answer the idempotency record keeps. */
  const callFor = (request: FastifyRequest, reply: FastifyReply, params: Record<string, string>, actor: string, upgrade?: AcceptableUpgrade): RouteCall<any, any> => ({
    request,
    reply,
    params,
    actor,
    body: parseBody ? parseBody(request.body) : bodySchema ? parse(bodySchema, request.body, 'body') : undefined,
    query: querySchema ? parse(querySchema, request.query, 'query') : undefined,
    upgrade,
  });
  const identify = spec.auth === 'stream' ? (request: FastifyRequest) => auth.stream(request) : (request: FastifyRequest) => auth.signature(request);

  if (spec.websocket) {
    return async (request: FastifyRequest, reply: FastifyReply) => {
      const upgrade = upgradeOf(request);
      if (!upgrade) throw new HttpError(426, 'UPGRADE_REQUIRED', `${spec.path} is a WebSocket route.`, 'Connect with a WebSocket client (iocli lease exec / port-forward do).');
      const actor = await identify(request);
      return spec.handler(callFor(request, reply, checkedParams(request), actor, { ...upgrade, hijack: () => reply.hijack() }), deps);
    };
  }
  if (spec.auth === 'public') return async (request: FastifyRequest, reply: FastifyReply) => spec.handler(callFor(request, reply, checkedParams(request), ''), deps);
  if (spec.auth === 'node') {
    // Node routes name their node first (its session is looked up by it); no promise on the heartbeat's hot path.
    return (request: FastifyRequest, reply: FastifyReply) => {
      const params = checkedParams(request);
      const actor = auth.node(request, params.id!);
      return typeof actor === 'string' ? spec.handler(callFor(request, reply, params, actor), deps) : actor.then((a) => spec.handler(callFor(request, reply, params, a), deps));
    };
  }
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const actor = await identify(request);
    const params = checkedParams(request);
    const key = request.headers['idempotency-key'];
    if (spec.method !== 'POST' || typeof key !== 'string' || key.length === 0) return spec.handler(callFor(request, reply, params, actor), deps);
    const resume = spec.resume;
    return idempotency.handle(
      {
        actor,
        key,
        method: spec.method,
        path: request.url,
        run: async () => spec.handler(callFor(request, reply, params, actor), deps),
        resume: resume && ((since) => resume(callFor(request, reply, params, actor), deps, since)),
      },
      reply,
    );
  };
}
