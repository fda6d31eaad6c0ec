// The OpenAPI 3.1 document, generated from the same zod schemas the server validates with.
import { z } from 'zod';
import * as s from '../api/schemas.js';

interface RouteDoc {
  method: 'get' | 'post';
  path: string;
  /** The operationId: what a generated client names the call. */
  id: string;
  summary: string;
  /** signed: ed25519 request signature; node: a heartbeat session MAC or a signature; false: public. */
  signed: boolean | 'node';
  body?: z.ZodType;
  query?: z.ZodObject;
  response: z.ZodType;
}

const routes: RouteDoc[] = [
  { method: 'get', path: '/healthz', id: 'health', summary: 'Liveness', signed: false, response: s.healthSchema },
  { method: 'post', path: '/v1/nodes', id: 'registerNode', summary: 'Register or update a node', signed: true, body: s.registerNodeSchema, response: s.nodeSchema },
  { method: 'get', path: '/v1/nodes/{id}', id: 'getNode', summary: "The owner's view of a node: status, GPUs, running leases", signed: true, response: s.nodeDetailSchema },
  { method: 'post', path: '/v1/nodes/{id}/sessions', id: 'openHeartbeatSession', summary: 'Open a heartbeat session (X25519 handshake; then x-iocli-session/seq/timestamp/mac headers)', signed: true, body: s.openSessionSchema, response: s.sessionSchema },
  { method: 'post', path: '/v1/nodes/{id}/heartbeat', id: 'heartbeat', summary: 'Heartbeat (session MAC or signature); returns the desired state', signed: 'node', body: s.heartbeatSchema, response: s.heartbeatResponseSchema },
  { method: 'get', path: '/v1/nodes/{id}/assignments', id: 'waitForAssignments', summary: 'Long-poll: the desired state once it differs from ?after=version (or at ?waitMs=, max 25 s)', signed: 'node', query: s.assignmentsQuerySchema, response: s.assignmentsResponseSchema },
  { method: 'post', path: '/v1/nodes/{id}/leases/{leaseId}/logs', id: 'uploadLeaseLogs', summary: 'Upload log chunks of a lease', signed: true, body: s.uploadLogsSchema, response: z.object({ ok: z.boolean() }) },
  { method: 'post', path: '/v1/nodes/{id}/challenges/{challengeId}/commit', id: 'commitChallenge', summary: 'GPU challenge: commit one Merkle root per GPU; the reply draws the entries to open and the VRAM words to answer (within a short window)', signed: true, body: s.challengeCommitSchema, response: s.challengeSamplesSchema },
  { method: 'post', path: '/v1/nodes/{id}/challenges/{challengeId}/answer', id: 'answerChallenge', summary: 'GPU challenge: open the sampled entries and send the queried VRAM words; the reply is the verdict', signed: true, body: s.challengeAnswerSchema, response: s.challengeResultSchema },
  { method: 'post', path: '/v1/nodes/{id}/probes/{probeId}', id: 'answerProbe', summary: 'Answer a liveness probe of the running leases; a late or failed answer stops accrual until a later probe passes', signed: true, body: s.probeAnswerSchema, response: s.probeResultSchema },
  { method: 'get', path: '/v1/nodes/{id}/why', id: 'explainNode', summary: "Why the node is not offered or not earning, with the next step (owner only)", signed: true, response: s.nodeWhySchema },
  { method: 'get', path: '/v1/nodes/{id}/bond', id: 'getNodeBond', summary: "The node's GPU bond (owner only)", signed: true, response: s.nodeBondSchema },
  { method: 'post', path: '/v1/nodes/{id}/bond', id: 'bondNode', summary: 'Bond GPUs: without payment a 402 names amount and memo reference; with a signed transfer, verified like a lease payment', signed: true, body: s.bondRequestSchema, response: s.nodeBondSchema },
  { method: 'post', path: '/v1/nodes/{id}/unbond', id: 'unbondNode', summary: 'Start the unbonding cooldown; the balance is paid back after it, never while a lease holds the GPU', signed: true, body: s.unbondRequestSchema, response: s.nodeBondSchema },
  { method: 'get', path: '/v1/offers', id: 'listOffers', summary: 'Available capacity, cheapest first', signed: false, query: s.offersQuerySchema, response: s.offersResponseSchema },
  { method: 'post', path: '/v1/leases/quote', id: 'quoteLease', summary: 'Price a lease (409 NO_CAPACITY explains what excluded what)', signed: true, body: s.quoteRequestSchema, response: s.quoteSchema },
  { method: 'post', path: '/v1/leases', id: 'createLease', summary: 'Create a lease from a quote and a payment', signed: true, body: s.createLeaseSchema, response: s.leaseSchema },
  { method: 'get', path: '/v1/leases', id: 'listLeases', summary: 'My leases', signed: true, query: s.leasesQuerySchema, response: s.leasesResponseSchema },
  { method: 'get', path: '/v1/leases/{id}', id: 'getLease', summary: 'One lease', signed: true, response: s.leaseSchema },
  { method: 'get', path: '/v1/leases/{id}/logs', id: 'getLeaseLogs', summary: 'Lease logs (?tail=N&since=cursor)', signed: true, query: s.logsQuerySchema, response: s.logsResponseSchema },
  { method: 'post', path: '/v1/leases/{id}/extend', id: 'extendLease', summary: 'Extend a lease', signed: true, body: s.extendLeaseSchema, response: s.leaseSchema },
  { method: 'post', path: '/v1/leases/{id}/stop', id: 'stopLease', summary: 'Stop a lease; refunds unused time', signed: true, response: s.stopLeaseResponseSchema },
  { method: 'get', path: '/v1/rewards', id: 'getRewards', summary: 'My rewards', signed: true, response: s.rewardsSchema },
  { method: 'post', path: '/v1/rewards/claim', id: 'claimRewards', summary: 'Claim rewards', signed: true, response: s.claimSchema },
  { method: 'post', path: '/v1/faucet', id: 'faucet', summary: 'Dev networks: test tokens and SOL for an address', signed: false, body: s.faucetRequestSchema, response: s.faucetResponseSchema },
  { method: 'get', path: '/v1/network', id: 'getNetwork', summary: 'Chain, mint, treasury and fees', signed: false, response: s.networkSchema },
];

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

/** Statuses every route may answer (besides its own), each with the shared error body. */
const COMMON_ERRORS: Record<string, string> = {
  400: 'Invalid input (details.issues says which field)',
  413: 'The request body is too large',
  415: 'The body must be JSON (content-type: application/json)',
  429: 'Rate limited (per client address, and per wallet after authentication); see Retry-After',
  500: 'Internal error',
  503: 'Temporarily unavailable (for example no payment verifier, or too many concurrent quotes); see Retry-After where present',
};
const SIGNED_ERRORS: Record<string, string> = {
  401: 'Missing or bad signature or session MAC, skewed clock, replayed nonce or sequence number (SEQ_BEHIND carries details.nextSeq)',
  403: 'Authenticated, but not the owner of this node, lease or quote',
  404: 'No such node, lease or quote',
};
const POST_ERRORS: Record<string, string> = {
  402: 'Payment required or rejected',
  409: 'Conflict: no capacity, a quote or payment already used, a lease already ended, or an Idempotency-Key still in progress (Retry-After)',
  410: 'The quote expired',
  422: 'This Idempotency-Key was used for another request',
};

export function buildOpenApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorBody = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
  const retryAfter = { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } };
  const error = (description: string, status: string) => ({ description, content: errorBody, ...(status === '429' || status === '409' || status === '503' ? { headers: retryAfter } : {}) });
  for (const route of routes) {
    const parameters: unknown[] = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (route.query) {
      for (const [name, field] of Object.entries(route.query.shape)) {
        parameters.push({ name, in: 'query', required: false, schema: jsonSchema(field as z.ZodType, 'input') });
      }
    }
    if (route.method === 'post' && route.signed === true) {
      parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });
    }
    if (route.signed) parameters.push(...SIGNATURE_HEADERS.map((name) => ({ $ref: `#/components/parameters/${name}` })));
    if (route.signed === 'node') parameters.push(...SESSION_HEADERS.map((name) => ({ $ref: `#/components/parameters/${name}` })));
    const statuses: Record<string, string> = { ...COMMON_ERRORS, ...(route.signed ? SIGNED_ERRORS : {}), ...(route.method === 'post' && route.path !== '/v1/faucet' ? POST_ERRORS : {}) };
    if (route.path === '/v1/faucet') Object.assign(statuses, { 403: 'Not a development network', 429: 'Faucet limit per address and per client reached' });
    const responses: Record<string, unknown> = {
      200: {
        description: 'OK',
        content: { 'application/json': { schema: jsonSchema(route.response, 'output') } },
        ...(route.method === 'post' && route.signed === true ? { headers: { 'Idempotent-Replay': { description: '"true" when this is the stored answer to an earlier request with the same Idempotency-Key', schema: { type: 'string' } } } } : {}),
      },
    };
    for (const [status, description] of Object.entries(statuses).sort()) responses[status] = error(description, status);
    paths[route.path] ??= {};
    paths[route.path]![route.method] = {
      operationId: route.id,
      summary: route.summary,
      security: route.signed === 'node' ? [{ iocliSignature: [] }, { iocliSession: [] }] : route.signed ? [{ iocliSignature: [] }] : [],
      ...(parameters.length ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } } : {}),
      responses,
    };
  }
  paths['/metrics'] = {
    get: {
      operationId: 'metrics',
      summary: 'Prometheus metrics (text exposition format 0.0.4)',
      security: [],
      responses: { 200: { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } }, 429: error(COMMON_ERRORS[429]!, '429') },
    },
  };
  paths['/v1/openapi.json'] = {
    get: {
      operationId: 'openapi',
      summary: 'This document',
      security: [],
      responses: { 200: { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } }, 429: error(COMMON_ERRORS[429]!, '429') },
    },
  };
  const header = (name: string, description: string, required = true) => ({ name, in: 'header', required, description, schema: { type: 'string' } });
  return {
    openapi: '3.1.0',
    info: { title: 'iocli coordinator', version, license: { name: 'MIT', identifier: 'MIT' } },
    // Relative: the document describes whichever coordinator serves it.
    servers: [{ url: '/', description: 'The coordinator serving this document' }],
    paths,
    components: {
      schemas: { Error: jsonSchema(s.apiErrorSchema, 'output') },
      parameters: {
        IdempotencyKey: header('Idempotency-Key', 'Same key and wallet: the first answer again instead of a second lease, extension or claim (up to 200 characters).', false),
        SignaturePubkey: header('x-iocli-pubkey', 'The signer: base58 ed25519 public key (signed requests).', false),
        SignatureTimestamp: header('x-iocli-timestamp', 'Unix milliseconds; refused when off the server clock by more than the allowed skew.', false),
        SignatureNonce: header('x-iocli-nonce', 'Unique per request; a reused nonce is a replay.', false),
        SessionId: header('x-iocli-session', 'Heartbeat session id (node routes over a session instead of a signature).', false),
        SessionSeq: header('x-iocli-seq', 'Strictly increasing per session; SEQ_BEHIND answers name the next usable one.', false),
        SessionMac: header('x-iocli-mac', 'HMAC-SHA256 over METHOD\\nPATH\\nTIMESTAMP\\nSEQ\\nSHA256HEX(BODY) with the session key, base64url.', false),
      },
      securitySchemes: {
        iocliSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'x-iocli-signature',
          description: 'ed25519 over METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256HEX(BODY), base58, with x-iocli-pubkey, x-iocli-timestamp (ms), x-iocli-nonce.',
        },
        iocliSession: {
          type: 'apiKey',
          in: 'header',
          name: 'x-iocli-mac',
          description: 'Node routes: a heartbeat session (POST /v1/nodes/{id}/sessions) MAC with x-iocli-session, x-iocli-seq and x-iocli-timestamp.',
        },
      },
    },
  };
}

const SIGNATURE_HEADERS = ['SignaturePubkey', 'SignatureTimestamp', 'SignatureNonce'];
const SESSION_HEADERS = ['SessionId', 'SessionSeq', 'SessionMac'];
