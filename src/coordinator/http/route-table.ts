// Every route of the coordinator API, in one table: what registerRoutes (http/routes.ts) serves and what the OpenAPI
// document (src/coordinator/openapi.ts) describes.
import { z } from 'zod';
import { createLeaseSchema, extendLeaseSchema, leaseSchema, leasesQuerySchema, leasesResponseSchema, logsQuerySchema, logsResponseSchema, offersQuerySchema, offersResponseSchema, quoteReleaseSchema, quoteRequestSchema, quoteSchema, stopLeaseResponseSchema } from '../../api/schemas/leases.js';
import { faucetRequestSchema, faucetResponseSchema, healthSchema, networkSchema } from '../../api/schemas/network.js';
import { assignmentsQuerySchema, assignmentsResponseSchema, heartbeatResponseSchema, heartbeatSchema, nodeDetailSchema, nodeSchema, openSessionSchema, registerNodeSchema, sessionSchema, uploadLogsSchema } from '../../api/schemas/nodes.js';
import { bondRequestSchema, challengeAnswerSchema, challengeCommitSchema, challengeResultSchema, challengeSamplesSchema, nodeBondSchema, nodeWhySchema, probeAnswerSchema, probeResultSchema, unbondRequestSchema } from '../../api/schemas/provider-trust.js';
import { claimSchema, rewardsSchema } from '../../api/schemas/rewards.js';
import type { NetworkInfo } from '../../api/schemas/network.js';
import type { FaucetGrants } from '../faucet.js';
import type { HeartbeatSessions } from '../heartbeat-sessions.js';
import { parseQuietHeartbeat } from '../heartbeat-input.js';
import { HttpError } from '../http-error.js';
import type { Metrics } from '../metrics.js';
import type { Relay } from '../relay.js';
import type { CoordinatorService } from '../service.js';
import { parse, route, type RouteSpec } from './routes.js';

/** What the handlers work with. */
export interface RouteDeps {
  service: CoordinatorService;
  sessions: HeartbeatSessions;
  relay: Relay;
  metrics: Metrics;
  faucet: FaucetGrants;
  health(): z.output<typeof healthSchema>;
  network: NetworkInfo;
  openapi(): Record<string, unknown>;
  /** Aborted when the server closes: long-polls end instead of holding close() up. */
  closing: AbortSignal;
}

type Route = RouteSpec<RouteDeps>;

const TEXT = { contentType: 'text/plain', schema: { type: 'string' } };
const DOCUMENT = { contentType: 'application/json', schema: { type: 'object' } };

/** The relay's query strings, as the relay reads them (src/coordinator/relay-open.ts); documented, not validated here. */
const nodeQuery = z.object({ node: z.string().optional().describe('Which of a multi-node lease’s nodes (default: the first)') });
const execQuery = nodeQuery.extend({
  cmd: z.array(z.string()).describe('The command and its arguments, one cmd= each'),
  tty: z.enum(['0', '1']).optional(),
  stdin: z.enum(['0', '1']).optional(),
  cols: z.coerce.number().int().min(1).max(10_000).optional(),
  rows: z.coerce.number().int().min(1).max(10_000).optional(),
});
const STREAM_ERRORS = { 409: 'The lease is not active', 426: 'Not a WebSocket upgrade', 503: 'The provider’s agent is not connected to the relay, or the coordinator is shutting down' };

export const ROUTES: Route[] = [
  route({ method: 'GET', path: '/healthz', id: 'health', summary: 'Liveness', auth: 'public', response: healthSchema, handler: (_call, d) => d.health() }),
  route({
    method: 'GET', path: '/metrics', id: 'metrics', summary: 'Prometheus metrics (text exposition format 0.0.4)', auth: 'public', response: TEXT,
    handler: async ({ reply }, d) => {
      reply.type('text/plain; version=0.0.4');
      return d.metrics.render(await d.service.gauges());
    },
  }),
  route({ method: 'GET', path: '/v1/openapi.json', id: 'openapi', summary: 'This document', auth: 'public', response: DOCUMENT, handler: (_call, d) => d.openapi() }),
  route({ method: 'GET', path: '/v1/network', id: 'getNetwork', summary: 'Chain, mint, treasury and fees', auth: 'public', response: networkSchema, handler: (_call, d) => d.network }),
  route({
    method: 'POST', path: '/v1/faucet', id: 'faucet', summary: 'Dev networks: test tokens and SOL for an address', auth: 'public', body: faucetRequestSchema, response: faucetResponseSchema,
    errors: { 403: 'Not a development network', 429: 'Faucet limit per address and per client reached' },
    handler: ({ body, request }, d) => d.faucet(body, request.ip),
  }),
  route({ method: 'GET', path: '/v1/offers', id: 'listOffers', summary: 'Available capacity, cheapest first', auth: 'public', query: offersQuerySchema, response: offersResponseSchema, handler: async ({ query }, d) => ({ offers: await d.service.offers(query) }) }),

  route({ method: 'POST', path: '/v1/nodes', id: 'registerNode', summary: 'Register or update a node', auth: 'signed', body: registerNodeSchema, response: nodeSchema, handler: ({ actor, body }, d) => d.service.registerNode(actor, body) }),
  route({ method: 'GET', path: '/v1/nodes/:id', id: 'getNode', summary: "The owner's view of a node: status, GPUs, running leases", auth: 'signed', response: nodeDetailSchema, handler: ({ actor, params }, d) => d.service.nodeDetail(params.id!, actor) }),
  route({
    method: 'POST', path: '/v1/nodes/:id/sessions', id: 'openHeartbeatSession', summary: 'Open a heartbeat session (X25519 handshake; then x-iocli-session/seq/timestamp/mac headers)', auth: 'signed', body: openSessionSchema, response: sessionSchema,
    handler: async ({ actor, params, body }, d) => {
      await d.service.requireNodeOwner(params.id!, actor);
      try {
        return await d.sessions.open(params.id!, actor, body.publicKey);
      } catch (error) {
        if (error instanceof HttpError) throw error;
        throw new HttpError(400, 'BAD_REQUEST', 'publicKey is not a usable X25519 public key.');
      }
    },
  }),
  // The hot path (thousands a second): no promise unless the session must be loaded or the heartbeat needs writes, and
  // the common reply is sent as JSON serialised once per assignment snapshot.
  route({
    method: 'POST', path: '/v1/nodes/:id/heartbeat', id: 'heartbeat', summary: 'Heartbeat (session MAC or signature); returns the desired state', auth: 'node', body: heartbeatSchema, response: heartbeatResponseSchema,
    parseBody: (raw) => parseQuietHeartbeat(raw) ?? parse(heartbeatSchema, raw, 'body'),
    handler: ({ actor, params, body, reply }, d) => {
      const json = d.service.quietHeartbeat(params.id!, actor, body);
      if (json === undefined) return d.service.heartbeat(params.id!, actor, body);
      reply.type('application/json; charset=utf-8').send(json);
      return undefined;
    },
  }),
  route({
    method: 'GET', path: '/v1/nodes/:id/assignments', id: 'waitForAssignments', summary: 'Long-poll: the desired state once it differs from ?after=version (or at ?waitMs=, max 25 s)', auth: 'node', query: assignmentsQuerySchema, response: assignmentsResponseSchema,
    handler: ({ actor, params, query, reply }, d) => {
      // A client that goes away ends its wait (no timer or waiter is left behind).
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      return d.service.waitForAssignments(params.id!, actor, query.after, query.waitMs, AbortSignal.any([gone.signal, d.closing]));
    },
  }),
  route({
    method: 'POST', path: '/v1/nodes/:id/challenges/:challengeId/commit', id: 'commitChallenge', summary: 'GPU challenge: commit one Merkle root per GPU; the reply draws the entries to open and the VRAM words to answer (within a short window)', auth: 'node', body: challengeCommitSchema, response: challengeSamplesSchema,
    handler: ({ actor, params, body }, d) => d.service.commitChallenge(params.id!, actor, params.challengeId!, body),
  }),
  route({
    method: 'POST', path: '/v1/nodes/:id/challenges/:challengeId/answer', id: 'answerChallenge', summary: 'GPU challenge: open the sampled entries and send the queried VRAM words; the reply is the verdict', auth: 'node', body: challengeAnswerSchema, response: challengeResultSchema,
    // 40 openings (leaf + Merkle path) per GPU, up to 64 GPUs: about 80 kB per GPU at real-GPU sizes.
    bodyLimit: 16 * 1024 * 1024,
    handler: ({ actor, params, body }, d) => d.service.answerChallenge(params.id!, actor, params.challengeId!, body),
  }),
  route({
    method: 'POST', path: '/v1/nodes/:id/probes/:probeId', id: 'answerProbe', summary: 'Answer a liveness probe of the running leases; a late or failed answer stops accrual until a later probe passes', auth: 'node', body: probeAnswerSchema, response: probeResultSchema,
    handler: ({ actor, params, body }, d) => d.service.answerProbe(params.id!, actor, params.probeId!, body),
  }),
  route({ method: 'GET', path: '/v1/nodes/:id/why', id: 'explainNode', summary: 'Why the node is not offered or not earning, with the next step (owner only)', auth: 'signed', response: nodeWhySchema, handler: ({ actor, params }, d) => d.service.explainNode(params.id!, actor) }),
  route({ method: 'GET', path: '/v1/nodes/:id/bond', id: 'getNodeBond', summary: "The node's GPU bond (owner only)", auth: 'signed', response: nodeBondSchema, handler: ({ actor, params }, d) => d.service.nodeBond(params.id!, actor) }),
  route({
    method: 'POST', path: '/v1/nodes/:id/bond', id: 'bondNode', summary: 'Bond GPUs: without payment a 402 names amount and memo reference; with a signed transfer, verified like a lease payment', auth: 'signed', body: bondRequestSchema, response: nodeBondSchema,
    handler: ({ actor, params, body }, d) => d.service.bond(params.id!, actor, body),
  }),
  route({
    method: 'POST', path: '/v1/nodes/:id/unbond', id: 'unbondNode', summary: 'Start the unbonding cooldown; the balance is paid back after it, never while a lease holds the GPU', auth: 'signed', body: unbondRequestSchema, response: nodeBondSchema,
    handler: ({ actor, params, body }, d) => d.service.unbond(params.id!, actor, body),
  }),
  route({
    method: 'POST', path: '/v1/nodes/:id/leases/:leaseId/logs', id: 'uploadLeaseLogs', summary: 'Upload log chunks of a lease', auth: 'signed', body: uploadLogsSchema, response: z.object({ ok: z.boolean() }),
    handler: async ({ actor, params, body }, d) => {
      await d.service.uploadLogs(params.id!, actor, params.leaseId!, body.chunks);
      return { ok: true };
    },
  }),
  route({
    method: 'GET', path: '/v1/nodes/:id/relay', id: 'agentRelayLink', summary: "WebSocket: the provider agent's relay link (one per node; renters' streams are multiplexed over it)", auth: 'signed', websocket: true, response: z.unknown(),
    errors: { 426: 'Not a WebSocket upgrade', 503: 'The coordinator is shutting down' },
    handler: async ({ actor, params, upgrade }, d) => {
      await d.service.requireNodeOwner(params.id!, actor);
      d.relay.acceptAgent(upgrade!, params.id!);
    },
  }),

  route({ method: 'POST', path: '/v1/leases/quote', id: 'quoteLease', summary: 'Price a lease (409 NO_CAPACITY explains what excluded what)', auth: 'signed', body: quoteRequestSchema, response: quoteSchema, handler: ({ actor, body }, d) => d.service.quote(actor, body) }),
  route({
    method: 'DELETE', path: '/v1/quotes/:id', id: 'releaseQuote', summary: "Release a quote that will not be paid for: its GPUs are free at once and it can no longer be paid for (the quote's renter only; again, or after it lapsed: the same answer)", auth: 'signed', response: quoteReleaseSchema,
    errors: { 409: 'The quote became a lease (QUOTE_USED) or a payment for it was received or is being confirmed (QUOTE_PAID)' },
    handler: ({ actor, params }, d) => d.service.releaseQuote(actor, params.id!),
  }),
  route({
    method: 'POST', path: '/v1/leases', id: 'createLease', summary: 'Create a lease from a quote and a payment', auth: 'signed', body: createLeaseSchema, response: leaseSchema,
    handler: ({ actor, body }, d) => d.service.createLease(actor, body),
    resume: ({ actor, body }, d) => d.service.leaseForQuote(actor, body.quoteId),
  }),
  route({ method: 'GET', path: '/v1/leases', id: 'listLeases', summary: 'My leases', auth: 'signed', query: leasesQuerySchema, response: leasesResponseSchema, handler: async ({ actor, query }, d) => ({ leases: await d.service.listLeases(actor, query.all) }) }),
  route({ method: 'GET', path: '/v1/leases/:id', id: 'getLease', summary: 'One lease', auth: 'signed', response: leaseSchema, handler: ({ actor, params }, d) => d.service.getLease(actor, params.id!) }),
  route({ method: 'GET', path: '/v1/leases/:id/logs', id: 'getLeaseLogs', summary: 'Lease logs (?tail=N&since=cursor)', auth: 'signed', query: logsQuerySchema, response: logsResponseSchema, handler: ({ actor, params, query }, d) => d.service.leaseLogs(actor, params.id!, query) }),
  route({ method: 'POST', path: '/v1/leases/:id/extend', id: 'extendLease', summary: 'Extend a lease', auth: 'signed', body: extendLeaseSchema, response: leaseSchema, handler: ({ actor, params, body }, d) => d.service.extendLease(actor, params.id!, body) }),
  route({ method: 'POST', path: '/v1/leases/:id/stop', id: 'stopLease', summary: 'Stop a lease; refunds unused time', auth: 'signed', response: stopLeaseResponseSchema, handler: ({ actor, params }, d) => d.service.stopLease(actor, params.id!) }),
  route({
    method: 'GET', path: '/v1/leases/:id/exec', id: 'leaseExec', summary: "WebSocket: run a command in the lease's container (stdin/stdout/stderr/resize/exit status); the lease's renter only", auth: 'stream', websocket: true, queryDoc: execQuery, response: z.unknown(), errors: STREAM_ERRORS,
    handler: ({ actor, params, request, upgrade }, d) => d.relay.openStream(upgrade!, actor, { kind: 'exec', leaseId: params.id!, url: request.url }),
  }),
  route({
    method: 'GET', path: '/v1/leases/:id/port/:port', id: 'leasePortForward', summary: "WebSocket: a TCP connection to a port of the lease's container; the lease's renter only", auth: 'stream', websocket: true, queryDoc: nodeQuery, response: z.unknown(), errors: STREAM_ERRORS,
    handler: ({ actor, params, request, upgrade }, d) => d.relay.openStream(upgrade!, actor, { kind: 'port', leaseId: params.id!, port: params.port!, url: request.url }),
  }),

  route({ method: 'GET', path: '/v1/rewards', id: 'getRewards', summary: 'My rewards', auth: 'signed', response: rewardsSchema, handler: ({ actor }, d) => d.service.rewards(actor) }),
  route({
    method: 'POST', path: '/v1/rewards/claim', id: 'claimRewards', summary: 'Claim rewards', auth: 'signed', response: claimSchema,
    handler: ({ actor }, d) => d.service.claim(actor),
    resume: ({ actor }, d, since) => d.service.claimSince(actor, since),
  }),
];
