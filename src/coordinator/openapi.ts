// The OpenAPI 3.1 document, generated from the same zod schemas the server validates with.
import { z } from 'zod';
import * as s from '../api/schemas.js';

interface RouteDoc {
  method: 'get' | 'post';
  path: string;
  summary: string;
  signed: boolean;
  body?: z.ZodType;
  query?: z.ZodObject;
  response: z.ZodType;
}

const routes: RouteDoc[] = [
  { method: 'get', path: '/healthz', summary: 'Liveness', signed: false, response: s.healthSchema },
  { method: 'post', path: '/v1/nodes', summary: 'Register or update a node', signed: true, body: s.registerNodeSchema, response: s.nodeSchema },
  { method: 'get', path: '/v1/nodes/{id}', summary: "The owner's view of a node: status, GPUs, running leases", signed: true, response: s.nodeDetailSchema },
  { method: 'post', path: '/v1/nodes/{id}/sessions', summary: 'Open a heartbeat session (X25519 handshake; then x-iocli-session/seq/timestamp/mac headers)', signed: true, body: s.openSessionSchema, response: s.sessionSchema },
  { method: 'post', path: '/v1/nodes/{id}/heartbeat', summary: 'Heartbeat (session MAC or signature); returns the desired state', signed: true, body: s.heartbeatSchema, response: s.heartbeatResponseSchema },
  { method: 'get', path: '/v1/nodes/{id}/assignments', summary: 'Long-poll: the desired state once it differs from ?after=version (or at ?waitMs=, max 25 s)', signed: true, query: s.assignmentsQuerySchema, response: s.assignmentsResponseSchema },
  { method: 'post', path: '/v1/nodes/{id}/leases/{leaseId}/logs', summary: 'Upload log chunks of a lease', signed: true, body: s.uploadLogsSchema, response: z.object({ ok: z.boolean() }) },
  { method: 'post', path: '/v1/nodes/{id}/challenges/{challengeId}/commit', summary: 'GPU challenge: commit one Merkle root per GPU; the reply draws the entries to open', signed: true, body: s.challengeCommitSchema, response: s.challengeSamplesSchema },
  { method: 'post', path: '/v1/nodes/{id}/challenges/{challengeId}/answer', summary: 'GPU challenge: open the sampled entries; the reply is the verdict', signed: true, body: s.challengeAnswerSchema, response: s.challengeResultSchema },
  { method: 'post', path: '/v1/nodes/{id}/probes/{probeId}', summary: 'Answer a liveness probe of the running leases; a late or failed answer stops accrual until a later probe passes', signed: true, body: s.probeAnswerSchema, response: s.probeResultSchema },
  { method: 'get', path: '/v1/nodes/{id}/why', summary: "Why the node is not offered or not earning, with the next step (owner only)", signed: true, response: s.nodeWhySchema },
  { method: 'get', path: '/v1/nodes/{id}/bond', summary: "The node's GPU bond (owner only)", signed: true, response: s.nodeBondSchema },
  { method: 'post', path: '/v1/nodes/{id}/bond', summary: 'Bond GPUs: without payment a 402 names amount and memo reference; with a signed transfer, verified like a lease payment', signed: true, body: s.bondRequestSchema, response: s.nodeBondSchema },
  { method: 'post', path: '/v1/nodes/{id}/unbond', summary: 'Start the unbonding cooldown; the balance is paid back after it, never while a lease holds the GPU', signed: true, body: s.unbondRequestSchema, response: s.nodeBondSchema },
  { method: 'get', path: '/v1/offers', summary: 'Available capacity, cheapest first', signed: false, query: s.offersQuerySchema, response: s.offersResponseSchema },
  { method: 'post', path: '/v1/leases/quote', summary: 'Price a lease (409 NO_CAPACITY explains what excluded what)', signed: true, body: s.quoteRequestSchema, response: s.quoteSchema },
  { method: 'post', path: '/v1/leases', summary: 'Create a lease from a quote and a payment', signed: true, body: s.createLeaseSchema, response: s.leaseSchema },
  { method: 'get', path: '/v1/leases', summary: 'My leases', signed: true, query: s.leasesQuerySchema, response: s.leasesResponseSchema },
  { method: 'get', path: '/v1/leases/{id}', summary: 'One lease', signed: true, response: s.leaseSchema },
  { method: 'get', path: '/v1/leases/{id}/logs', summary: 'Lease logs (?tail=N&since=cursor)', signed: true, query: s.logsQuerySchema, response: s.logsResponseSchema },
  { method: 'post', path: '/v1/leases/{id}/extend', summary: 'Extend a lease', signed: true, body: s.extendLeaseSchema, response: s.leaseSchema },
  { method: 'post', path: '/v1/leases/{id}/stop', summary: 'Stop a lease; refunds unused time', signed: true, response: s.stopLeaseResponseSchema },
  { method: 'get', path: '/v1/rewards', summary: 'My rewards', signed: true, response: s.rewardsSchema },
  { method: 'post', path: '/v1/rewards/claim', summary: 'Claim rewards', signed: true, response: s.claimSchema },
  { method: 'post', path: '/v1/faucet', summary: 'Dev networks: test tokens and SOL for an address', signed: false, body: s.faucetRequestSchema, response: s.faucetResponseSchema },
  { method: 'get', path: '/v1/network', summary: 'Chain, mint, treasury and fees', signed: false, response: s.networkSchema },
];

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

export function buildOpenApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const error = { description: 'Error', content: { 'application/json': { schema: jsonSchema(s.apiErrorSchema, 'output') } } };
  for (const route of routes) {
    const parameters: unknown[] = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (route.query) {
      for (const [name, field] of Object.entries(route.query.shape)) {
        parameters.push({ name, in: 'query', required: false, schema: jsonSchema(field as z.ZodType, 'input') });
      }
    }
    if (route.body) parameters.push({ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } });
    paths[route.path] ??= {};
    paths[route.path]![route.method] = {
      summary: route.summary,
      ...(route.signed ? { security: [{ iocliSignature: [] }] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } } : {}),
      responses: {
        200: { description: 'OK', content: { 'application/json': { schema: jsonSchema(route.response, 'output') } } },
        400: error,
        401: error,
        403: error,
        404: error,
        409: error,
        default: error,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'iocli coordinator', version },
    paths,
    components: {
      securitySchemes: {
        iocliSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'x-iocli-signature',
          description: 'ed25519 over METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256HEX(BODY), base58, with x-iocli-pubkey, x-iocli-timestamp (ms), x-iocli-nonce.',
        },
      },
    },
  };
}
