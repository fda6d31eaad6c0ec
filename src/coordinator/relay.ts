// The coordinator's side of the relay (DESIGN.md, Lease access): agents keep one WebSocket each
// (/v1/nodes/:id/relay); a renter opens one WebSocket per stream (/v1/leases/:id/exec, /v1/leases/:id/port/:port),
// signed like every request; the coordinator checks that the signer is the lease's renter and the lease is active,
// then relays the stream's bytes over the node's link with credit flow control (src/api/relay-protocol.ts).
// The routes, their authentication and rate limits are those of every route (http/route-table.ts); they hand the
// upgrade here. With several replicas the renter's replica may not hold the agent's link: relay-forward.ts.
import { randomBytes } from 'node:crypto';
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
  type OpenRequest,
  type StreamStatus,
} from '../api/relay-protocol.js';
import { keepSocketAlive } from '../api/relay-keep-alive.js';
import type { AcceptableUpgrade } from './http/routes.js';
import { HttpError } from './http-error.js';
import { forwardedRenter, forwardStream, isForwarded, recordRelayLink, type ForwardedStream } from './relay-forward.js';
import { endedLeases, leaseNodeFor, parseOpen, type StreamTarget } from './relay-open.js';
import { execOnLink, type AgentLink, type RelayExecOutcome, type RenterStream } from './relay-streams.js';

export type { RelayExecOutcome } from './relay-streams.js';

export interface RelayLimits {
  perLease: number;
  perRenter: number;
  /** A stream with no bytes either way for this long is closed. */
  idleMs: number;
}

export interface RelayOptions {
  db: Kysely<any>;
  limits?: Partial<RelayLimits>;
  /** How this replica is reached by the other replicas (its own URL, known once it listens); undefined: no forwarding. */
  replicaUrl(): string | undefined;
  /** How often ended leases' streams are looked for and closed (default 2 s). */
  leaseCheckMs?: number;
  now?: () => number;
  onError?: (error: unknown, where: string) => void;
}

export interface Relay {
  /** An agent's link for its node (the caller checked that the signer owns the node). */
  acceptAgent(upgrade: AcceptableUpgrade, nodeId: string): void;
  /** A renter's stream: checks the lease and the stream limits, then bridges it to the agent's link (here or on another replica). */
  openStream(upgrade: AcceptableUpgrade, renter: string, target: StreamTarget): Promise<void>;
  /** The renter another replica vouches for when it forwards a stream (see relay-forward.ts). */
  forwardedRenter(headers: Record<string, string | string[] | undefined>): string | undefined;
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

export function createRelay(options: RelayOptions): Relay {
  const now = options.now ?? Date.now;
  const limits: RelayLimits = { perLease: 32, perRenter: 64, idleMs: 60 * 60_000, ...options.limits };
  const onError = options.onError ?? (() => {});
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 2 * MAX_CHUNK + 64 });
  const links = new Map<string, AgentLink>();
  const secret = randomBytes(24).toString('hex');
  let closing = false;

  const allStreams = () => [...links.values()].flatMap((link) => [...link.streams.values()]);
  const forwarded = new Set<ForwardedStream>();
  // Streams between the limit check and their registration (a database read and the upgrade lie between).
  const reserved = new Set<{ leaseId: string; renter: string }>();
  const countFor = (predicate: (s: { leaseId: string; renter: string }) => boolean) =>
    allStreams().filter(predicate).length + [...forwarded].filter(predicate).length + [...reserved].filter(predicate).length;

  const recordLink = (nodeId: string, held: boolean) => recordRelayLink(options.db, { nodeId, replicaUrl: options.replicaUrl(), secret, held, at: now() });

  function adoptAgent(nodeId: string, ws: WebSocket): void {
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
          endedLeases(options.db, [stream.leaseId]).then(
            (ended) => stream.finish(ended.has(stream.leaseId) ? { error: `Lease ${stream.leaseId} ended (${ended.get(stream.leaseId)}).`, code: 'LEASE_ENDED' } : status),
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

  /** The node to bridge a renter's stream to, within the stream limits, and the stream's place held until released. */
  async function streamNode(renter: string, target: StreamTarget): Promise<{ nodeId: string; release: () => void }> {
    const { leaseId } = target;
    const nodeId = await leaseNodeFor(options.db, renter, target);
    if (countFor((s) => s.leaseId === leaseId) >= limits.perLease) throw new HttpError(429, 'RELAY_STREAM_LIMIT', `Lease ${leaseId} already has ${limits.perLease} open streams.`, 'Close some (exec sessions, forwarded connections) and retry.');
    if (countFor((s) => s.renter === renter) >= limits.perRenter) throw new HttpError(429, 'RELAY_STREAM_LIMIT', `This wallet already has ${limits.perRenter} open streams.`, 'Close some and retry.');
    // Checked and held in one synchronous step: streams opened at the same moment cannot all pass the check.
    const reservation = { leaseId, renter };
    reserved.add(reservation);
    return { nodeId, release: () => reserved.delete(reservation) };
  }

  const shuttingDown = () => new HttpError(503, 'SHUTTING_DOWN', 'The coordinator is shutting down.');

  function acceptAgent(upgrade: AcceptableUpgrade, nodeId: string): void {
    if (closing) throw shuttingDown();
    upgrade.hijack();
    wss.handleUpgrade(upgrade.request, upgrade.socket, upgrade.head, (ws) => adoptAgent(nodeId, ws));
  }

  async function openStream(upgrade: AcceptableUpgrade, renter: string, target: StreamTarget): Promise<void> {
    if (closing) throw shuttingDown();
    const open = parseOpen(target);
    // The place is held until the stream is registered or the socket goes away, whichever comes first.
    const { nodeId, release } = await streamNode(renter, target);
    upgrade.socket.once('close', release);
    try {
      const link = links.get(nodeId);
      if (link) {
        upgrade.hijack();
        wss.handleUpgrade(upgrade.request, upgrade.socket, upgrade.head, (ws) => {
          release();
          bridge(link, ws, renter, open);
        });
        return;
      }
      // A stream another replica forwarded is never forwarded again.
      const replicaUrl = options.replicaUrl();
      const holder = isForwarded(upgrade.request.headers) || !replicaUrl ? undefined : await options.db.selectFrom('relay_links').select(['replica_url', 'replica_secret']).where('node_id', '=', nodeId).executeTakeFirst();
      if (!holder || holder.replica_secret === secret) {
        throw new HttpError(503, 'AGENT_NOT_CONNECTED', `The provider's agent for node ${nodeId} is not connected to the relay.`, 'The provider may be offline or restarting; retry in a few seconds.');
      }
      upgrade.hijack();
      wss.handleUpgrade(upgrade.request, upgrade.socket, upgrade.head, (ws) => {
        release();
        forwardStream(holder, target.url, renter, ws, target.leaseId, forwarded, now);
      });
    } catch (error) {
      release();
      throw error;
    }
  }

  // Ended leases and idle streams are closed here; the agent's own end (container gone) closes the rest.
  const checkTimer = setInterval(() => {
    const t = now();
    for (const stream of allStreams()) if (t - stream.lastActivity > limits.idleMs) stream.finish({ error: `The stream was idle for ${Math.round(limits.idleMs / 1000)} s.`, code: 'IDLE_TIMEOUT' }, 1000);
    const leaseIds = [...new Set([...allStreams().map((s) => s.leaseId), ...[...forwarded].map((s) => s.leaseId)])];
    if (leaseIds.length === 0) return;
    endedLeases(options.db, leaseIds)
      .then((ended) => {
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
    acceptAgent,
    openStream,
    forwardedRenter: (headers) => forwardedRenter(headers, secret),
    openStreams: () => allStreams().length + forwarded.size,
    exec: async (nodeId, leaseId, command, timeoutMs) => {
      const link = links.get(nodeId);
      if (!link || link.ws.readyState !== WebSocket.OPEN || closing) return null;
      return execOnLink(link, leaseId, command, timeoutMs, now);
    },
    linkedNodes: () => [...links.keys()],
    close: async () => {
      closing = true;
      clearInterval(checkTimer);
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
