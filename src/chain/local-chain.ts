// Starts the offline local Solana chain: JSON-RPC over HTTP and subscriptions over WebSocket, on loopback, backed by litesvm.
//
// An unmodified @solana/web3.js Connection (and @solana/spl-token) works against it. What it is and is not:
// - Real execution (litesvm: System, SPL Token, Token-2022, ATA, Memo), real signature verification, real fees
//   (5000 lamports per signature), rotating blockhashes (a new slot every 400 ms, 150 slots of validity; stale or
//   unknown blockhashes fail with BlockhashNotFound), duplicate signatures rejected (AlreadyProcessed) or, with
//   skipPreflight, dropped — exactly the behaviours a payment outbox must cope with on a real cluster.
// - Every transaction is final the moment it lands ("finalized"), unless started with commitment 'realistic'
//   (commitment.ts); there are no forks. The cluster methods answer as one single validator (cluster-methods.ts).
// - Airdrops are real transfers from a faucet account whose key is derived from the genesis seed.
// - Persistence (with dataDir): genesis.json + ledger.jsonl, an append-only log of landed transactions replayed on
//   start; see journal.ts for why a log rather than account snapshots.
// - jsonParsed for System, SPL Token, ATA and Memo (json-parsed.ts); account, program, logs, signature, slot and
//   root subscriptions (ws-subscriptions.ts); CORS for loopback origins only, unless more are allowed.
// - Limits: no address-lookup-table resolution in balances/meta, no durable-nonce transactions, account reads are
//   always the latest state whatever the commitment.

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { ChainState } from './chain-state.js';
import type { ClusterEndpoints } from './cluster-methods.js';
import type { CommitmentMode } from './commitment.js';
import { createRpcMethods } from './rpc-methods.js';
import type { RpcHandler } from './rpc-methods.js';
import { RpcError } from './svm-errors.js';
import { serveSubscriptions } from './ws-subscriptions.js';

export interface LocalChainOptions {
  /** Where the chain keeps its ledger; in memory only when omitted. */
  dataDir?: string;
  host?: '127.0.0.1';
  /** 0 = a random free port. */
  port?: number;
  /** Defaults to port + 1 (what web3.js assumes when no wsEndpoint is given); with port 0, a free pair P, P + 1 is found. */
  wsPort?: number;
  /** Slot length; tests may shorten it. */
  slotMs?: number;
  /** 'instant' (default): final on landing; 'realistic': confirmed next slot, finalized 32 slots later. */
  commitment?: CommitmentMode;
  /**
   * Browser origins allowed to call the RPC besides loopback ones (http(s)://localhost|127.0.0.1|[::1]:any port),
   * e.g. a hosted explorer; '*' allows any.
   */
  corsOrigins?: string[] | '*';
}

export interface LocalChain {
  rpcUrl: string;
  wsUrl: string;
  port: number;
  wsPort: number;
  genesisHash: string;
  /** The faucet's address (requestAirdrop pays from it). */
  faucet: string;
  slot(): number;
  /** Jumps ahead `slots` slots at once, e.g. to expire blockhashes in a test without waiting a minute. */
  advanceSlots(slots: number): number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

export async function startLocalChain(options: LocalChainOptions = {}): Promise<LocalChain> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const chain = ChainState.open({ dataDir: options.dataDir, commitment: options.commitment });
  const endpoints: ClusterEndpoints = { rpc: null, pubsub: null };
  const methods = createRpcMethods(chain, endpoints);
  const originAllowed = (origin: string | undefined) => origin === undefined || isAllowedOrigin(origin, options.corsOrigins ?? []);

  const http = createServer((request, response) => void serveHttp(methods, originAllowed, request, response));
  http.keepAliveTimeout = 60_000;
  // Browsers send no CORS preflight for WebSockets, so the origin check happens here.
  const verifyClient = ({ origin }: { origin?: string }) => originAllowed(origin || undefined);
  const wsOnHttp = new WebSocketServer({ server: http, verifyClient });
  const wsServer = new WebSocketServer({ noServer: true, verifyClient });
  const wsHttp = createServer((_request, response) => response.writeHead(426).end());
  wsHttp.on('upgrade', (request, socket, head) => {
    if (!originAllowed(request.headers.origin)) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wsServer.handleUpgrade(request, socket, head, (ws) => wsServer.emit('connection', ws, request));
  });
  const detach = serveSubscriptions(chain, [wsOnHttp, wsServer]);

  try {
    if (port === 0 && options.wsPort === undefined) await listenOnFreePair(http, wsHttp, host);
    else {
      await listen(http, port, host);
      await listen(wsHttp, options.wsPort ?? port + 1, host);
    }
  } catch (error) {
    detach();
    chain.close();
    await Promise.all([closeServer(http), closeServer(wsHttp)]);
    throw error;
  }
  const rpcPort = (http.address() as AddressInfo).port;
  const wsPort = (wsHttp.address() as AddressInfo).port;
  endpoints.rpc = `${host}:${rpcPort}`;
  endpoints.pubsub = `${host}:${wsPort}`;
  chain.clock.start(options.slotMs);

  let closed: Promise<void> | undefined;
  return {
    rpcUrl: `http://${host}:${rpcPort}`,
    wsUrl: `ws://${host}:${wsPort}`,
    port: rpcPort,
    wsPort,
    genesisHash: chain.genesisHash,
    faucet: chain.faucet.publicKey,
    slot: () => chain.clock.slot,
    advanceSlots: (slots) => chain.clock.advance(slots),
    close: () =>
      (closed ??= (async () => {
        detach();
        for (const server of [wsOnHttp, wsServer]) for (const client of server.clients) client.terminate();
        wsOnHttp.close();
        wsServer.close();
        http.closeAllConnections();
        wsHttp.closeAllConnections();
        await Promise.all([closeServer(http), closeServer(wsHttp)]);
        chain.close();
      })()),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * A random RPC port P with the WebSocket on P + 1: the Solana convention (web3.js and the Solana CLI derive the WebSocket
 * URL from the RPC URL this way), so a client given only the RPC URL can confirm transactions.
 */
async function listenOnFreePair(http: Server, wsHttp: Server, host: string, attempts = 50): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await listen(http, 0, host);
    const rpcPort = (http.address() as AddressInfo).port;
    try {
      if (rpcPort >= 65535) throw Object.assign(new Error('no port above 65535'), { code: 'EADDRINUSE' });
      await listen(wsHttp, rpcPort + 1, host);
      return;
    } catch (error) {
      await closeServer(http);
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= attempts) throw error;
    }
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether a browser page from `origin` may call the RPC: loopback pages always, others only when listed. */
export function isAllowedOrigin(origin: string, extra: string[] | '*'): boolean {
  if (extra === '*' || extra.includes(origin)) return true;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_HOSTS.has(url.hostname);
  } catch {
    return false;
  }
}

async function serveHttp(
  methods: Record<string, RpcHandler>,
  originAllowed: (origin: string | undefined) => boolean,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    if (!originAllowed(origin)) {
      // No CORS headers: the browser refuses to hand the answer to the page; a preflight is refused outright.
      if (request.method === 'OPTIONS') {
        response.writeHead(403).end();
        return;
      }
    } else {
      response.setHeader('access-control-allow-origin', origin);
      response.setHeader('vary', 'Origin');
      if (request.method === 'OPTIONS') {
        response
          .writeHead(204, {
            'access-control-allow-methods': 'POST, GET, OPTIONS',
            'access-control-allow-headers': request.headers['access-control-request-headers'] ?? 'content-type',
            'access-control-max-age': '86400',
          })
          .end();
        return;
      }
    }
  }
  if (request.method === 'GET' && request.url === '/health') {
    response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  if (request.method !== 'POST') {
    response.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      response.writeHead(413).end();
      request.destroy();
      return;
    }
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return reply(response, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
  }
  if (Array.isArray(body)) {
    if (body.length === 0) return reply(response, { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid request' }, id: null });
    return reply(response, body.map((item) => dispatch(methods, item)));
  }
  reply(response, dispatch(methods, body));
}

function dispatch(methods: Record<string, RpcHandler>, request: unknown): unknown {
  const { id = null, method, params } = (request ?? {}) as { id?: unknown; method?: unknown; params?: unknown };
  if (typeof method !== 'string') return { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid request' }, id };
  const handler = Object.hasOwn(methods, method) ? methods[method] : undefined;
  if (!handler) return { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id };
  try {
    return { jsonrpc: '2.0', result: handler(Array.isArray(params) ? params : []), id };
  } catch (error) {
    if (error instanceof RpcError) {
      return { jsonrpc: '2.0', error: { code: error.code, message: error.message, ...(error.data !== undefined ? { data: error.data } : {}) }, id };
    }
    return { jsonrpc: '2.0', error: { code: -32603, message: `Internal error: ${(error as Error).message}` }, id };
  }
}

// u64 values above 2^53 (the lamport supply) are returned as bigint and written as exact JSON integers.
const BIGINT_MARK = '\u0000u64:';
const bigintReplacer = (_key: string, value: unknown) => (typeof value === 'bigint' ? `${BIGINT_MARK}${value}` : value);
const BIGINT_PATTERN = /"\\u0000u64:(\d+)"/g;

function reply(response: ServerResponse, payload: unknown): void {
  let text = JSON.stringify(payload, bigintReplacer);
  if (text.includes('\\u0000u64:')) text = text.replace(BIGINT_PATTERN, '$1');
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}
