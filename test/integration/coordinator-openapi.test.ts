// The served OpenAPI document passes Redocly's "recommended" lint rules (@redocly/openapi-core: the engine behind
// `redocly lint`), describes routes the server really has, and lists the statuses and headers the server uses.
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

type Operation = { operationId?: string; security?: unknown[]; parameters?: Array<{ $ref?: string }>; responses: Record<string, { headers?: Record<string, unknown> }> };

describe('OpenAPI document', () => {
  let coordinator: TestCoordinator;
  let doc: { servers?: unknown[]; paths: Record<string, Record<string, Operation>> };

  beforeAll(async () => {
    coordinator = await startTestCoordinator('sqlite');
    doc = (await (await fetch(`${coordinator.url}/v1/openapi.json`)).json()) as typeof doc;
  });
  afterAll(async () => {
    await coordinator?.close();
  });

  it('passes the recommended lint rules with no errors or warnings, but for the WebSocket routes answering 101', async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'openapi.json', config });
    // A WebSocket handshake succeeds with 101 Switching Protocols, never 2xx; OpenAPI has no other way to say so.
    const websocketPaths = ['/v1/nodes/{id}/relay', '/v1/leases/{id}/exec', '/v1/leases/{id}/port/{port}'].map((path) => `#/paths/${path.replaceAll('/', '~1')}/get/responses`);
    const expected = websocketPaths.map((pointer) => `warn operation-2xx-response: Operation must have at least one \`2XX\` response. at ${pointer}`);
    expect(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer ?? ''}`).sort()).toEqual(expected.sort());
  });

  it('documents the relay WebSocket routes as signed GETs that switch protocols', () => {
    for (const path of ['/v1/nodes/{id}/relay', '/v1/leases/{id}/exec', '/v1/leases/{id}/port/{port}']) {
      const op = doc.paths[path]!.get!;
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['101', '401', '426', '429']));
      expect(op.security).toEqual([{ iocliSignature: [] }]);
    }
  });

  it('documents only routes the server has, including /metrics and itself, each with an operationId', () => {
    expect(doc.servers?.length).toBeGreaterThan(0);
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
    for (const { path, method } of operations) expect([method, path, coordinator.server.app.hasRoute({ method: method.toUpperCase() as 'GET', url: path.replace(/\{(\w+)\}/g, ':$1') })]).toEqual([method, path, true]);
    expect(operations.map((o) => o.path)).toEqual(expect.arrayContaining(['/metrics', '/v1/openapi.json', '/healthz']));
    expect(new Set(operations.map((o) => o.op.operationId)).size).toBe(operations.length);
  });

  it('lists the statuses and headers the server uses', () => {
    const op = (path: string, method: string) => doc.paths[path]![method]!;
    const createLease = op('/v1/leases', 'post');
    for (const status of ['402', '409', '410', '413', '415', '422', '429', '503']) expect(Object.keys(createLease.responses)).toContain(status);
    expect(createLease.responses['429']!.headers).toHaveProperty('Retry-After');
    expect(createLease.responses['200']!.headers).toHaveProperty('Idempotent-Replay');
    expect(createLease.parameters).toContainEqual({ $ref: '#/components/parameters/IdempotencyKey' });
    expect(op('/v1/nodes/{id}/heartbeat', 'post').parameters).toContainEqual({ $ref: '#/components/parameters/SessionSeq' });
    expect(op('/v1/offers', 'get').security).toEqual([]);
  });
});
