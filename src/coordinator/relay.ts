// The coordinator's side of the relay (DESIGN.md, Lease access): agents keep one WebSocket each
// (/v1/nodes/:id/relay); a renter opens one WebSocket per stream (/v1/leases/:id/exec, /v1/leases/:id/port/:port),
// signed like every request; the coordinator checks that the signer is the lease's renter and the lease is active,
// then relays the stream's bytes over the node's link with credit flow control (src/api/relay-protocol.ts).
// With several replicas the renter's replica may not hold the agent's link: it forwards the stream to the replica that
// does (relay_links table: which replica holds which node, with a per-replica secret only replicas can read).
import type { IncomingMessage, Server } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Kysely } from 'kysely';
import WebSocket, { WebSocketServer } from 'ws';
import {
  CHANNEL,
  channelMessage,
  decodeFrame,
  encodeCredit,
  encodeData,
  encodeFrame,
  encodeJson,
  FRAME,
  MAX_CHUNK,
  parseJson,
  WINDOW_BYTES,
  zeroMask,
  type OpenRequest,
  type StreamStatus,
} from '../api/relay-protocol.js';
import { keepSocketAlive } from '../api/relay-keep-alive.js';
import { HttpError } from './http-error.js';

/** Lease states in which a renter may open streams (the agent still refuses when no container runs). */
const ACTIVE_STATES = new Set(['scheduled', 'running']);
const FORWARD_HEADER = 'x-iocli-relay-forward';
const FORWARD_ACTOR = 'x-iocli-relay-actor';

export interface RelayLimits {
  perLease: number;
  perRenter: number;
  /** A stream with no bytes either way for this long is closed. */
  idleMs: number;
}

export interface RelayOptions {
  db: Kysely<any>;
  /** Verifies the request's signature and burns its nonce; returns the signer's public key or throws HttpError. */
  authenticate(method: string, url: string, headers: IncomingMessage['headers']): Promise<string>;
  requireNodeOwner(nodeId: string, actor: string): Promise<void>;
  limits?: Partial<RelayLimits>;
  /** How this replica is reached by the other replicas (its own URL); absent: no cross-replica forwarding. */
  replicaUrl?: string;
  /** How often ended leases' streams are looked for and closed (default 2 s). */
  leaseCheckMs?: number;
  now?: () => number;
  onError?: (error: unknown, where: string) => void;
}

/** What a command the coordinator ran itself in a lease's container (exec) printed, and how it ended. */
export interface RelayExecOutcome {
  status: StreamStatus;
  stdout: string;
  stderr: string;
}

export interface Relay {
  /** Streams open on this replica (tests, metrics). */
  openStreams(): number;
  /**
   * Run a command in a lease's container over this replica's link to the node: the coordinator's own stream (liveness
   * probes), on the same path a renter's `lease exec` takes. Null when this replica holds no link to the node.
   * Output beyond 64 KiB per channel is dropped.
   */
  exec(nodeId: string, leaseId: string, command: string[], timeoutMs: number): Promise<RelayExecOutcome | null>;
  /** Nodes whose agents hold a link to this replica. */
  linkedNodes(): string[];
  close(): Promise<void>;
}

/** Where a stream's output goes: the renter's WebSocket, or the coordinator's own collector (exec). */
interface StreamSink {
  readonly readyState: number;
  readonly isPaused: boolean;
  send(data: Buffer, cb?: (err?: Error) => void): void;
  resume(): void;
}

interface RenterStream {
  id: number;
  leaseId: string;
  renter: string;
  renterWs: StreamSink;
  /** Renter bytes the agent may still take before it acknowledges. */
  toAgentWindow: number;
  lastActivity: number;
  finish(status: StreamStatus, code?: number): void;
}

interface AgentLink {
  nodeId: string;
  ws: WebSocket;
  streams: Map<number, RenterStream>;
  nextId: number;
}

type Route = { kind: 'agent'; nodeId: string } | { kind: 'exec'; leaseId: string } | { kind: 'port'; leaseId: string; port: number };

function route(url: string): Route | undefined {
  const path = url.split('?')[0]!;
  let m = /^\/v1\/nodes\/([^/]+)\/relay$/.exec(path);
  if (m) return { kind: 'agent', nodeId: decodeURIComponent(m[1]!) };
  m = /^\/v1\/leases\/([^/]+)\/exec$/.exec(path);
  if (m) return { kind: 'exec', leaseId: decodeURIComponent(m[1]!) };
  m = /^\/v1\/leases\/([^/]+)\/port\/(\d{1,5})$/.exec(path);
  if (m) return { kind: 'port', leaseId: decodeURIComponent(m[1]!), port: Number(m[2]) };
  return undefined;
}

function refuseUpgrade(socket: Duplex, error: HttpError): void {
  const body = JSON.stringify({ error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) } });
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 429: 'Too Many Requests', 502: 'Bad Gateway', 503: 'Service Unavailable' }[error.status] ?? 'Error';
  socket.end(`HTTP/1.1 ${error.status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

function parseOpen(route: Route & { kind: 'exec' | 'port' }, url: string): OpenRequest {
  if (route.kind === 'port') {
    if (route.port < 1 || route.port > 65535) throw new HttpError(400, 'BAD_REQUEST', 'The port must be 1-65535.');
    return { kind: 'port', leaseId: route.leaseId, port: route.port };
  }
  const query = new URLSearchParams(url.split('?')[1] ?? '');
  const command = query.getAll('cmd');
  if (command.length === 0 || command.length > 1000 || command.some((arg) => arg.length > 100_000)) {
    throw new HttpError(400, 'BAD_REQUEST', 'Give the command to run (cmd=…), at most 1000 arguments.');
  }
  const size = (name: string) => {
    const value = query.get(name);
    if (value === null) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new HttpError(400, 'BAD_REQUEST', `${name} must be a positive integer.`);
    return n;
  };
  return { kind: 'exec', leaseId: route.leaseId, command, tty: query.get('tty') === '1', stdin: query.get('stdin') === '1', cols: size('cols'), rows: size('rows') };
}

export function attachRelay(server: Server, options: RelayOptions): Relay {
  const now = options.now ?? Date.now;
  const limits: RelayLimits = { perLease: 32, perRenter: 64, idleMs: 60 * 60_000, ...options.limits };
  const onError = options.onError ?? (() => {});
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 2 * MAX_CHUNK + 64 });
  const links = new Map<string, AgentLink>();
  const secret = randomBytes(24).toString('hex');
  let closing = false;

  const allStreams = () => [...links.values()].flatMap((link) => [...link.streams.values()]);
  const forwarded = new Set<{ leaseId: string; renter: string; close(status: StreamStatus): void; lastActivity: number }>();
  const countFor = (predicate: (s: { leaseId: string; renter: string }) => boolean) => allStreams().filter(predicate).length + [...forwarded].filter(predicate).length;

  async function recordLink(nodeId: string, held: boolean): Promise<void> {
    if (!options.replicaUrl) return;
    if (held) {
      await options.db
        .insertInto('relay_links')
        .values({ node_id: nodeId, replica_url: options.replicaUrl, replica_secret: secret, updated_at: now() })
        .onConflict((oc) => oc.column('node_id').doUpdateSet({ replica_url: options.replicaUrl!, replica_secret: secret, updated_at: now() }))
        .execute();
    } else {
      await options.db.deleteFrom('relay_links').where('node_id', '=', nodeId).where('replica_secret', '=', secret).execute();
    }
  }

  function acceptAgent(nodeId: string, ws: WebSocket): void {
    const previous = links.get(nodeId);
    if (previous) previous.ws.terminate();
    const link: AgentLink = { nodeId, ws, streams: new Map(), nextId: 1 };
    links.set(nodeId, link);
    recordLink(nodeId, true).catch((error) => onError(error, 'relay link record'));
    const keepAlive = keepSocketAlive(ws);
    ws.on('message', (message: Buffer, isBinary) => {
      keepAlive.markAlive();
      if (!isBinary) return;
      const frame = decodeFrame(message);
      const stream = frame && link.streams.get(frame.stream);
      if (!frame || !stream) return;
      stream.lastActivity = now();
      switch (frame.type) {
        case FRAME.data: {
          if (frame.payload.length === 0 || stream.renterWs.readyState !== WebSocket.OPEN) return;
          // A DATA payload (channel byte + bytes) is already the renter's message format: it goes on without a copy.
          const bytes = frame.payload.length - 1;
          // The agent's window reopens only once the renter's socket took the bytes: a slow renter slows the producer.
          stream.renterWs.send(frame.payload, () => {
            if (ws.readyState === WebSocket.OPEN) ws.send(encodeCredit(stream.id, bytes));
          });
          return;
        }
        case FRAME.credit:
          if (frame.payload.length >= 4) {
            stream.toAgentWindow += frame.payload.readUInt32BE(0);
            if (stream.toAgentWindow > 0 && stream.renterWs.isPaused) stream.renterWs.resume();
          }
          return;
        case FRAME.end:
          if (stream.renterWs.readyState === WebSocket.OPEN) stream.renterWs.send(Buffer.from([CHANNEL.close, frame.payload[0] ?? CHANNEL.stdout]));
          return;
        case FRAME.close: {
          link.streams.delete(stream.id);
          const status = parseJson<StreamStatus>(frame.payload) ?? {};
          if (status.exitCode === undefined) return stream.finish(status);
          // A command killed because its lease ended reports a signal's exit code; say what really happened.
          options.db
            .selectFrom('leases')
            .select('state')
            .where('id', '=', stream.leaseId)
            .executeTakeFirst()
            .then(
              (lease) => stream.finish(lease && !ACTIVE_STATES.has(lease.state) ? { error: `Lease ${stream.leaseId} ended (${lease.state}).`, code: 'LEASE_ENDED' } : status),
              () => stream.finish(status),
            );
          return;
        }
      }
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      keepAlive.stop();
      if (links.get(nodeId) === link) {
        links.delete(nodeId);
        recordLink(nodeId, false).catch((error) => onError(error, 'relay link record'));
      }
      for (const stream of link.streams.values()) stream.finish({ error: `The provider's agent for node ${nodeId} disconnected.`, code: 'AGENT_GONE' }, 1011);
      link.streams.clear();
    });
  }

  /** Binds a renter WebSocket to a new stream on the node's link. */
  function bridge(link: AgentLink, renterWs: WebSocket, renter: string, open: OpenRequest): void {
    const id = link.nextId++;
    let done = false;
    const stream: RenterStream = {
      id,
      leaseId: open.leaseId,
      renter,
      renterWs,
      toAgentWindow: WINDOW_BYTES,
      lastActivity: now(),
      finish: (status, code = 1000) => {
        if (done) return;
        done = true;
        link.streams.delete(id);
        if (renterWs.readyState === WebSocket.OPEN) {
          renterWs.send(channelMessage(CHANNEL.status, JSON.stringify(status)));
          renterWs.close(code);
        }
      },
    };
    link.streams.set(id, stream);
    link.ws.send(encodeJson(FRAME.open, id, open));
    renterWs.on('message', (message: Buffer, isBinary) => {
      if (done || !isBinary || message.length === 0) return;
      stream.lastActivity = now();
      const channel = message[0]!;
      const payload = message.subarray(1);
      if (channel === CHANNEL.stdin) {
        if (payload.length === 0) return;
        stream.toAgentWindow -= payload.length;
        link.ws.send(encodeData(id, CHANNEL.stdin, payload));
        if (stream.toAgentWindow <= 0) renterWs.pause();
      } else if (channel === CHANNEL.resize) {
        link.ws.send(encodeFrame(FRAME.resize, id, payload));
      } else if (channel === CHANNEL.close) {
        link.ws.send(encodeFrame(FRAME.end, id, Buffer.from([payload[0] ?? CHANNEL.stdin])));
      }
    });
    renterWs.on('error', () => {});
    renterWs.on('close', () => {
      if (!done) {
        done = true;
        link.streams.delete(id);
        if (link.ws.readyState === WebSocket.OPEN) link.ws.send(encodeFrame(FRAME.close, id));
      }
    });
  }

  /** The coordinator's own exec stream: output collected (and acknowledged at once), resolved when it ends. */
  function execOnLink(nodeId: string, leaseId: string, command: string[], timeoutMs: number): Promise<RelayExecOutcome | null> {
    const link = links.get(nodeId);
    if (!link || link.ws.readyState !== WebSocket.OPEN || closing) return Promise.resolve(null);
    return new Promise((resolve) => {
      const id = link.nextId++;
      const output: Record<number, Buffer[]> = { [CHANNEL.stdout]: [], [CHANNEL.stderr]: [] };
      const sizes: Record<number, number> = { [CHANNEL.stdout]: 0, [CHANNEL.stderr]: 0 };
      let done = false;
      const text = (channel: number) => Buffer.concat(output[channel]!).toString('utf8');
      const end = (status: StreamStatus) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        link.streams.delete(id);
        resolve({ status, stdout: text(CHANNEL.stdout), stderr: text(CHANNEL.stderr) });
      };
      const collector: StreamSink = {
        readyState: WebSocket.OPEN,
        isPaused: false,
        send: (payload, cb) => {
          const channel = payload[0]!;
          const bytes = payload.subarray(1);
          if (output[channel] && sizes[channel]! + bytes.length <= 65_536) {
            output[channel]!.push(Buffer.from(bytes));
            sizes[channel]! += bytes.length;
          }
          cb?.();
        },
        resume: () => {},
      };
      link.streams.set(id, { id, leaseId, renter: 'coordinator', renterWs: collector, toAgentWindow: WINDOW_BYTES, lastActivity: now(), finish: end });
      const timer = setTimeout(() => {
        if (link.ws.readyState === WebSocket.OPEN) link.ws.send(encodeFrame(FRAME.close, id));
        end({ error: `No answer within ${timeoutMs} ms.`, code: 'TIMEOUT' });
      }, timeoutMs);
      const open: OpenRequest = { kind: 'exec', leaseId, command, tty: false, stdin: false };
      link.ws.send(encodeJson(FRAME.open, id, open));
    });
  }

  /** Pipes a renter WebSocket to the replica holding the node's link, as the same renter. */
  function forward(target: { replica_url: string; replica_secret: string }, url: string, renter: string, renterWs: WebSocket, leaseId: string): void {
    const upstreamUrl = `${target.replica_url.replace(/^http/, 'ws').replace(/\/+$/, '')}${url}`;
    const upstream = new WebSocket(upstreamUrl, { headers: { [FORWARD_HEADER]: target.replica_secret, [FORWARD_ACTOR]: renter }, perMessageDeflate: false, maxPayload: 2 * MAX_CHUNK + 64, generateMask: zeroMask });
    const entry = {
      leaseId,
      renter,
      lastActivity: now(),
      close: (status: StreamStatus) => {
        if (renterWs.readyState === WebSocket.OPEN) {
          renterWs.send(channelMessage(CHANNEL.status, JSON.stringify(status)));
          renterWs.close(1011);
        }
        upstream.terminate();
      },
    };
    forwarded.add(entry);
    const pending: Buffer[] = [];
    // Each side's send callback gates the other side's reading: TCP backpressure carries through this replica.
    const pipe = (from: WebSocket, to: WebSocket) =>
      from.on('message', (message: Buffer) => {
        entry.lastActivity = now();
        if (to.readyState !== WebSocket.OPEN) return void (to === upstream && pending.push(message));
        from.pause();
        to.send(message, () => from.resume());
      });
    pipe(renterWs, upstream);
    pipe(upstream, renterWs);
    upstream.on('open', () => {
      for (const message of pending.splice(0)) upstream.send(message);
    });
    upstream.on('unexpected-response', (_req, res) => {
      res.resume();
      entry.close({ error: `The coordinator replica holding the node's link refused the stream (HTTP ${res.statusCode}).`, code: 'RELAY_FORWARD_FAILED' });
    });
    upstream.on('error', () => entry.close({ error: 'The coordinator replica holding the node\'s link is unreachable.', code: 'RELAY_FORWARD_FAILED' }));
    upstream.on('close', (code) => {
      forwarded.delete(entry);
      if (renterWs.readyState === WebSocket.OPEN) renterWs.close(code === 1005 ? 1000 : code);
    });
    renterWs.on('close', () => {
      forwarded.delete(entry);
      upstream.close();
    });
    renterWs.on('error', () => {});
  }

  async function authorizeRenter(request: IncomingMessage, leaseId: string): Promise<{ renter: string; nodeId: string; forwardedFrom: boolean }> {
    const url = request.url ?? '';
    let renter: string;
    let forwardedFrom = false;
    const forwardSecret = request.headers[FORWARD_HEADER];
    if (typeof forwardSecret === 'string') {
      // Another replica already checked the signature (and burned the nonce); it proves itself with this replica's secret.
      const a = Buffer.from(forwardSecret);
      const b = Buffer.from(secret);
      if (a.length !== b.length || !timingSafeEqual(a, b)) throw new HttpError(401, 'UNAUTHORIZED', 'Bad relay forwarding secret.');
      renter = String(request.headers[FORWARD_ACTOR] ?? '');
      forwardedFrom = true;
    } else {
      renter = await options.authenticate('GET', url, request.headers);
    }
    const lease = await options.db.selectFrom('leases').select(['renter', 'state']).where('id', '=', leaseId).executeTakeFirst();
    // Someone else's lease reads as missing: lease ids are not disclosed to other wallets.
    if (!lease || lease.renter !== renter) throw new HttpError(404, 'LEASE_NOT_FOUND', `No lease ${leaseId} for this wallet.`);
    if (!ACTIVE_STATES.has(lease.state)) throw new HttpError(409, 'LEASE_NOT_ACTIVE', `Lease ${leaseId} is ${lease.state}; streams need a running lease.`);
    const nodes = (await options.db.selectFrom('lease_allocations').select('node_id').where('lease_id', '=', leaseId).where('active', '=', 1).execute()).map((r) => r.node_id as string);
    const unique = [...new Set(nodes)].sort();
    const wanted = new URLSearchParams(url.split('?')[1] ?? '').get('node');
    if (wanted && !unique.includes(wanted)) throw new HttpError(404, 'NODE_NOT_IN_LEASE', `Node ${wanted} is not one of lease ${leaseId}'s nodes (${unique.join(', ')}).`);
    const nodeId = wanted ?? unique[0];
    if (!nodeId) throw new HttpError(409, 'LEASE_NOT_ACTIVE', `Lease ${leaseId} has no node yet.`);
    if (countFor((s) => s.leaseId === leaseId) >= limits.perLease) throw new HttpError(429, 'RELAY_STREAM_LIMIT', `Lease ${leaseId} already has ${limits.perLease} open streams.`, 'Close some (exec sessions, forwarded connections) and retry.');
    if (countFor((s) => s.renter === renter) >= limits.perRenter) throw new HttpError(429, 'RELAY_STREAM_LIMIT', `This wallet already has ${limits.perRenter} open streams.`, 'Close some and retry.');
    return { renter, nodeId, forwardedFrom };
  }

  async function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = request.url ?? '';
    const target = route(url);
    if (!target) return refuseUpgrade(socket, new HttpError(404, 'NOT_FOUND', `No WebSocket route ${url.split('?')[0]}.`));
    if (closing) return refuseUpgrade(socket, new HttpError(503, 'SHUTTING_DOWN', 'The coordinator is shutting down.'));
    if (target.kind === 'agent') {
      const actor = await options.authenticate('GET', url, request.headers);
      await options.requireNodeOwner(target.nodeId, actor);
      wss.handleUpgrade(request, socket, head, (ws) => acceptAgent(target.nodeId, ws));
      return;
    }
    const open = parseOpen(target, url);
    const { renter, nodeId, forwardedFrom } = await authorizeRenter(request, target.leaseId);
    const link = links.get(nodeId);
    if (!link) {
      const holder = forwardedFrom || !options.replicaUrl ? undefined : await options.db.selectFrom('relay_links').selectAll().where('node_id', '=', nodeId).executeTakeFirst();
      if (!holder || holder.replica_secret === secret) {
        throw new HttpError(503, 'AGENT_NOT_CONNECTED', `The provider's agent for node ${nodeId} is not connected to the relay.`, 'The provider may be offline or restarting; retry in a few seconds.');
      }
      wss.handleUpgrade(request, socket, head, (ws) => forward(holder as { replica_url: string; replica_secret: string }, url, renter, ws, target.leaseId));
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => bridge(link, ws, renter, open));
  }

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    handleUpgrade(request, socket, head).catch((error: unknown) => {
      if (error instanceof HttpError) return refuseUpgrade(socket, error);
      onError(error, 'relay upgrade');
      refuseUpgrade(socket, new HttpError(500, 'INTERNAL', 'Internal error in the coordinator.'));
    });
  };
  server.on('upgrade', onUpgrade);

  // Ended leases and idle streams are closed here; the agent's own end (container gone) closes the rest.
  const checkTimer = setInterval(() => {
    const t = now();
    for (const stream of allStreams()) if (t - stream.lastActivity > limits.idleMs) stream.finish({ error: `The stream was idle for ${Math.round(limits.idleMs / 1000)} s.`, code: 'IDLE_TIMEOUT' }, 1000);
    const leaseIds = [...new Set([...allStreams().map((s) => s.leaseId), ...[...forwarded].map((s) => s.leaseId)])];
    if (leaseIds.length === 0) return;
    options.db
      .selectFrom('leases')
      .select(['id', 'state'])
      .where('id', 'in', leaseIds)
      .execute()
      .then((rows) => {
        const ended = new Map(rows.filter((r) => !ACTIVE_STATES.has(r.state as string)).map((r) => [r.id as string, r.state as string]));
        if (ended.size === 0) return;
        for (const stream of allStreams()) {
          const state = ended.get(stream.leaseId);
          if (state) stream.finish({ error: `Lease ${stream.leaseId} ended (${state}).`, code: 'LEASE_ENDED' });
        }
        for (const entry of forwarded) {
          const state = ended.get(entry.leaseId);
          if (state) entry.close({ error: `Lease ${entry.leaseId} ended (${state}).`, code: 'LEASE_ENDED' });
        }
      })
      .catch((error) => onError(error, 'relay lease check'));
  }, options.leaseCheckMs ?? 2_000);
  checkTimer.unref();

  return {
    openStreams: () => allStreams().length + forwarded.size,
    exec: execOnLink,
    linkedNodes: () => [...links.keys()],
    close: async () => {
      closing = true;
      clearInterval(checkTimer);
      server.off('upgrade', onUpgrade);
      for (const entry of forwarded) entry.close({ error: 'The coordinator is shutting down.', code: 'COORDINATOR_GONE' });
      for (const link of links.values()) {
        for (const stream of link.streams.values()) stream.finish({ error: 'The coordinator is shutting down.', code: 'COORDINATOR_GONE' }, 1001);
        link.ws.terminate();
      }
      const held = [...links.keys()];
      links.clear();
      await Promise.all(held.map((nodeId) => recordLink(nodeId, false).catch(() => {})));
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
