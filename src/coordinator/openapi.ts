// The OpenAPI 3.1 document, generated from the route table (http/route-table.ts) and the zod schemas the server
// validates with, so the document and the routes cannot drift apart.
import { z } from 'zod';
import { apiErrorSchema } from '../api/schemas/network.js';
import { ROUTES } from './http/route-table.js';
import type { RawResponse } from './http/routes.js';

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

const isRaw = (response: z.ZodType | RawResponse): response is RawResponse => 'contentType' in response;

export function buildOpenApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorBody = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
  const retryAfter = { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } };
  const error = (description: string, status: string) => ({ description, content: errorBody, ...(status === '429' || status === '409' || status === '503' ? { headers: retryAfter } : {}) });
  for (const route of ROUTES) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    const method = route.method.toLowerCase();
    const signed = route.auth !== 'public';
    const idempotent = route.method === 'POST' && route.auth === 'signed';
    const parameters: unknown[] = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query = route.query ?? route.queryDoc;
    if (query) {
      for (const [name, field] of Object.entries(query.shape)) {
        parameters.push({ name, in: 'query', required: !(field as z.ZodType).safeParse(undefined).success, schema: jsonSchema(field as z.ZodType, 'input') });
      }
    }
    if (idempotent) parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });
    if (signed) parameters.push(...SIGNATURE_HEADERS.map((name) => ({ $ref: `#/components/parameters/${name}` })));
    if (route.auth === 'node') parameters.push(...SESSION_HEADERS.map((name) => ({ $ref: `#/components/parameters/${name}` })));
    // A route that takes no input can only be rate limited.
    const raw = isRaw(route.response);
    const statuses: Record<string, string> = raw
      ? { 429: COMMON_ERRORS[429]! }
      : { ...COMMON_ERRORS, ...(signed ? SIGNED_ERRORS : {}), ...(route.method === 'POST' && signed ? POST_ERRORS : {}), ...route.errors };
    const responses: Record<string, unknown> = {};
    if (route.websocket) {
      responses[101] = { description: 'Switching Protocols: the WebSocket is open (frames: src/api/relay-protocol.ts)' };
    } else {
      const content = isRaw(route.response) ? { [route.response.contentType]: { schema: route.response.schema } } : { 'application/json': { schema: jsonSchema(route.response, 'output') } };
      responses[200] = {
        description: 'OK',
        content,
        ...(idempotent ? { headers: { 'Idempotent-Replay': { description: '"true" when this is the stored answer to an earlier request with the same Idempotency-Key', schema: { type: 'string' } } } } : {}),
      };
    }
    for (const [status, description] of Object.entries(statuses).sort()) responses[status] = error(description, status);
    paths[path] ??= {};
    paths[path]![method] = {
      operationId: route.id,
      summary: route.summary,
      security: route.auth === 'node' ? [{ iocliSignature: [] }, { iocliSession: [] }] : signed ? [{ iocliSignature: [] }] : [],
      ...(parameters.length ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } } : {}),
      responses,
    };
  }
  const header = (name: string, description: string, required = true) => ({ name, in: 'header', required, description, schema: { type: 'string' } });
  return {
    openapi: '3.1.0',
    info: { title: 'iocli coordinator', version, license: { name: 'MIT', identifier: 'MIT' } },
    // Relative: the document describes whichever coordinator serves it.
    servers: [{ url: '/', description: 'The coordinator serving this document' }],
    paths,
    components: {
      schemas: { Error: jsonSchema(apiErrorSchema, 'output') },
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
