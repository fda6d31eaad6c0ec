// lightFetch against a real HTTP server on 127.0.0.1: what the coordinator client and the RPC reads rely on, and that it
// fails the way the global fetch does (so error messages and timeouts stay the same after the switch).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lightFetch } from '../../src/http/light-fetch.js';
import { createApiClient } from '../../src/api/client.js';
import { rpcCall } from '../../src/wallet/rpc.js';

let server: Server;
let base: string;
const seen: Array<{ method: string; url: string; headers: Record<string, unknown>; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (req.url === '/split') {
        // "é" is two bytes: send them in separate writes, so a decoder per chunk would garble it.
        const bytes = Buffer.from('{"name":"café"}', 'utf8');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(bytes.subarray(0, bytes.length - 3));
        setTimeout(() => res.end(bytes.subarray(bytes.length - 3)), 20);
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('{}'), 2_000);
      } else if (req.url === '/cut') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('{"partial":');
        setTimeout(() => res.destroy(), 20);
      } else if (req.url === '/missing') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"NOT_FOUND","message":"No lease x."}}');
      } else if (req.url === '/rpc') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { echoed: JSON.parse(body).method } }));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: body }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('lightFetch', () => {
  it('sends method, headers and a UTF-8 body with its byte length, and reads the answer whole', async () => {
    const response = await lightFetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-one': '1' }, body: '{"q":"ü"}' });
    expect(response.ok).toBe(true);
    expect(response.status).toBe(200);
    expect(JSON.parse(await response.text())).toEqual({ echo: '{"q":"ü"}' });
    const request = seen.at(-1)!;
    expect(request).toMatchObject({ method: 'POST', url: '/echo', body: '{"q":"ü"}' });
    expect(request.headers['content-length']).toBe(String(Buffer.byteLength('{"q":"ü"}')));
    expect(request.headers['x-one']).toBe('1');
  });

  it('decodes a multi-byte character split across chunks', async () => {
    expect(JSON.parse(await (await lightFetch(`${base}/split`, {})).text())).toEqual({ name: 'café' });
  });

  it('reports a non-2xx status without throwing, like fetch', async () => {
    const response = await lightFetch(`${base}/missing`, {});
    expect(response.ok).toBe(false);
    expect(response.status).toBe(404);
  });

  it('rejects with TypeError("fetch failed") carrying the socket error when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await lightFetch(`http://127.0.0.1:${port}/`, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('fetch failed');
    expect(((error as TypeError).cause as { code?: string }).code).toBe('ECONNREFUSED');
  });

  it('rejects with the signal reason on a timeout, and at once when already aborted', async () => {
    const started = Date.now();
    const error = await lightFetch(`${base}/slow`, { signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(1_500);
    const controller = new AbortController();
    controller.abort(new Error('stop now'));
    await expect(lightFetch(`${base}/echo`, { signal: controller.signal })).rejects.toThrow('stop now');
  });

  it('rejects when the response is cut short', async () => {
    await expect(lightFetch(`${base}/cut`, {})).rejects.toThrow('fetch failed');
  });

  it('refuses a protocol other than http and https', async () => {
    await expect(lightFetch('ftp://127.0.0.1/x', {})).rejects.toThrow(/unsupported protocol ftp:/);
  });
});

describe('callers over lightFetch', () => {
  it('the coordinator client maps errors and timeouts as before', async () => {
    const client = createApiClient({ baseUrl: base, timeoutMs: 100 });
    await expect(client.lease('x')).rejects.toMatchObject({ code: 'KEYPAIR_REQUIRED' });
    await expect(client.health()).resolves.toEqual({ echo: '' });
    const slow = createApiClient({ baseUrl: `${base}/slow#`, timeoutMs: 100 });
    await expect(slow.health()).rejects.toMatchObject({ code: 'COORDINATOR_TIMEOUT' });
    await expect(createApiClient({ baseUrl: 'http://127.0.0.1:1' }).health()).rejects.toMatchObject({ code: 'COORDINATOR_UNREACHABLE' });
  });

  it('rpcCall names the socket error when the RPC cannot be reached', async () => {
    await expect(rpcCall(`${base}/rpc`, 'getSlot')).resolves.toEqual({ echoed: 'getSlot' });
    await expect(rpcCall('http://127.0.0.1:1', 'getSlot')).rejects.toThrow(/Cannot reach the Solana RPC at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/);
  });
});
