// How the API client reads 2xx answers, against a real HTTP server on 127.0.0.1 that answers what each test says: with
// validateResponses every answer is checked against its shared zod schema (the field that does not fit is named);
// without it any JSON object is taken as is, and anything else is refused.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../src/api/client.js';
import { newKeypair, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

let server: Server;
let url: string;
let answer = '{}';

beforeAll(async () => {
  server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const health = { status: 'ok', version: '1.2.3', engine: 'sqlite', uptimeS: 4 };

describe('API client answers', () => {
  it.each([
    { what: 'a health answer missing a field', body: { status: 'ok', engine: 'sqlite', uptimeS: 4 }, field: 'version' },
    { what: 'a wrong type', body: { ...health, uptimeS: 'four' }, field: 'uptimeS' },
    { what: 'an array', body: [health], field: 'body' },
  ])('with validation: refuses $what as COORDINATOR_BAD_RESPONSE naming $field', async ({ body, field }) => {
    answer = JSON.stringify(body);
    const error = await createApiClient({ baseUrl: url, validateResponses: true })
      .health()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'COORDINATOR_BAD_RESPONSE' });
    expect((error as Error).message).toContain(`${field}:`);
  });

  it('with validation: returns an answer that fits', async () => {
    answer = JSON.stringify(health);
    await expect(createApiClient({ baseUrl: url, validateResponses: true }).health()).resolves.toEqual(health);
  });

  it.each([
    { what: 'an array', body: '[1]' },
    { what: 'null', body: 'null' },
    { what: 'a number', body: '42' },
  ])('without validation: takes any object, refuses $what', async ({ body }) => {
    answer = JSON.stringify({ anything: true });
    await expect(createApiClient({ baseUrl: url }).health()).resolves.toEqual({ anything: true });
    answer = body;
    await expect(createApiClient({ baseUrl: url }).health()).rejects.toMatchObject({ code: 'COORDINATOR_BAD_RESPONSE' });
  });
});

describe("a real coordinator's answers fit the shared schemas", () => {
  let coordinator: TestCoordinator;
  beforeAll(async () => {
    coordinator = await startTestCoordinator('sqlite');
  });
  afterAll(async () => {
    await coordinator?.close();
  });

  it('health, network, offers, leases and rewards, read with validation', async () => {
    const client = createApiClient({ baseUrl: coordinator.url, keypair: newKeypair(), validateResponses: true });
    await expect(client.health()).resolves.toMatchObject({ status: 'ok', engine: 'sqlite' });
    await expect(client.network()).resolves.toMatchObject({ cluster: 'localnet', dev: true });
    await expect(client.offers()).resolves.toEqual({ offers: [] });
    await expect(client.leases({ all: true })).resolves.toEqual({ leases: [] });
    await expect(client.rewards()).resolves.toMatchObject({ claimable: 0 });
  });
});
