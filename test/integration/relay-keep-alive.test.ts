// The relay link's keep-alive over real WebSockets on 127.0.0.1: a peer that answers pings, or keeps sending, stays
// connected; a peer gone silent is terminated within two intervals; a stopped keep-alive terminates nothing.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { keepSocketAlive, type KeepAlive } from '../../src/api/relay-keep-alive.js';
import { waitFor } from '../support/wait.js';

const INTERVAL_MS = 40;

describe('relay keep-alive (real WebSockets on loopback)', () => {
  let server: WebSocketServer;
  let url: string;
  /** The server side of each accepted socket, with its keep-alive. */
  const accepted: Array<{ ws: WebSocket; keepAlive: KeepAlive }> = [];
  const clients: WebSocket[] = [];

  beforeAll(async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
    server.on('connection', (ws) => {
      const keepAlive = keepSocketAlive(ws, INTERVAL_MS);
      ws.on('message', () => keepAlive.markAlive());
      ws.on('close', () => keepAlive.stop());
      accepted.push({ ws, keepAlive });
    });
  });
  afterAll(async () => {
    for (const client of clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Connects a client; `autoPong: false` makes it a peer that no longer answers pings. */
  async function connect(autoPong: boolean): Promise<{ client: WebSocket; closedAt: Promise<number> }> {
    const before = accepted.length;
    const client = new WebSocket(url, { autoPong });
    clients.push(client);
    const closedAt = new Promise<number>((resolve) => client.once('close', () => resolve(Date.now())));
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
    await waitFor('the server to accept', () => accepted.length > before);
    return { client, closedAt };
  }

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('keeps a peer that answers pings connected', async () => {
    const { client } = await connect(true);
    await sleep(INTERVAL_MS * 10);
    expect(client.readyState).toBe(WebSocket.OPEN);
  });

  it('terminates a silent peer within two intervals', async () => {
    const t0 = Date.now();
    const { closedAt } = await connect(false);
    const elapsed = (await closedAt) - t0;
    expect(elapsed).toBeGreaterThanOrEqual(INTERVAL_MS * 2 - 5);
    expect(elapsed).toBeLessThan(INTERVAL_MS * 2 + 500);
  });

  it('counts messages as signs of life when the peer does not answer pings', async () => {
    const { client } = await connect(false);
    const chatter = setInterval(() => client.send('still here'), INTERVAL_MS / 4);
    try {
      await sleep(INTERVAL_MS * 10);
      expect(client.readyState).toBe(WebSocket.OPEN);
    } finally {
      clearInterval(chatter);
    }
  });

  it('terminates nothing once stopped', async () => {
    const { client } = await connect(false);
    accepted.at(-1)!.keepAlive.stop();
    await sleep(INTERVAL_MS * 10);
    expect(client.readyState).toBe(WebSocket.OPEN);
  });
});
