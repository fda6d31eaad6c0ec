// The agent's side of the relay (DESIGN.md, Lease access): one outbound WebSocket to the coordinator, authenticated as
// the node's owner, over which the coordinator opens streams into this node's lease containers — an exec (Docker Engine
// API, hijacked stream) or a TCP connection to a port of the container. Rigs behind NAT need no inbound port.
// Flow control: see src/api/relay-protocol.ts. A stream's producer (exec output, TCP socket) is paused whenever the
// coordinator has not acknowledged WINDOW_BYTES of it.
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { CHANNEL, dataFrameReader, decodeFrame, encodeCredit, encodeData, encodeFrame, encodeJson, FRAME, MAX_CHUNK, parseJson, RELAY_PATHS, relayEndpoint, WINDOW_BYTES, zeroMask, type OpenRequest, type StreamStatus } from '../api/relay-protocol.js';
import { keepSocketAlive } from '../api/relay-keep-alive.js';
import { createSigner, type SigningKeypair } from '../api/signing.js';
import { LABEL_PORTS } from '../domain/docker-args.js';
import { createDemuxer, createDockerEngine, type DockerEngine } from '../docker/engine-api.js';

export interface RelayLinkOptions {
  /** The coordinator's base URL (http or https). */
  apiUrl: string;
  nodeId: string;
  /** The node owner's keypair: it signs the link's opening request. */
  keypair: SigningKeypair;
  signal: AbortSignal;
  engine?: DockerEngine;
  /** First reconnect delay; doubles up to 5 s. */
  reconnectMs?: number;
  onEvent?: (event: RelayLinkEvent) => void;
}

export type RelayLinkEvent =
  | { type: 'relay-connected' }
  | { type: 'relay-disconnected'; reason: string; retryInMs: number }
  | { type: 'relay-stream'; kind: OpenRequest['kind']; leaseId: string; outcome: 'opened' | 'refused'; reason?: string };

export interface RelayLink {
  /** Resolves once the link is up (tests; the agent never waits for it). */
  connected(): Promise<void>;
  close(): Promise<void>;
}

interface AgentStream {
  /** Bytes the coordinator has not acknowledged yet may not exceed WINDOW_BYTES. */
  window: number;
  source?: Duplex;
  onData(channel: number, bytes: Buffer, acknowledge: () => void): void;
  onEnd(channel: number): void;
  onResize(cols: number, rows: number): void;
  destroy(): void;
}

export function startRelayLink(options: RelayLinkOptions): RelayLink {
  const engine = options.engine ?? createDockerEngine();
  const sign = createSigner(options.keypair);
  const emit = (event: RelayLinkEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // Rendering must not break the link.
    }
  };
  let socket: WebSocket | undefined;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let delay = options.reconnectMs ?? 500;
  let resolveConnected!: () => void;
  const connectedOnce = new Promise<void>((resolve) => (resolveConnected = resolve));
  let loopDone!: () => void;
  const finished = new Promise<void>((resolve) => (loopDone = resolve));

  const connectOnce = () => {
    if (closed) return loopDone();
    const path = RELAY_PATHS.agent(options.nodeId);
    const { url, signedPath } = relayEndpoint(options.apiUrl, path);
    const ws = new WebSocket(url, { headers: { ...sign('GET', signedPath, '') }, perMessageDeflate: false, maxPayload: 2 * MAX_CHUNK + 64, generateMask: zeroMask });
    socket = ws;
    const streams = new Map<number, AgentStream>();
    const keepAlive = keepSocketAlive(ws);
    ws.on('open', () => {
      delay = options.reconnectMs ?? 500;
      emit({ type: 'relay-connected' });
      resolveConnected();
    });
    ws.on('message', (message: Buffer, isBinary) => {
      keepAlive.markAlive();
      if (!isBinary) return;
      const frame = decodeFrame(message);
      if (!frame) return;
      const stream = streams.get(frame.stream);
      switch (frame.type) {
        case FRAME.open: {
          const request = parseJson<OpenRequest>(frame.payload);
          if (!request || stream) return;
          openStream(ws, streams, frame.stream, request);
          return;
        }
        case FRAME.data:
          if (stream && frame.payload.length > 0) {
            const bytes = frame.payload.subarray(1);
            stream.onData(frame.payload[0]!, bytes, () => send(ws, encodeCredit(frame.stream, bytes.length)));
          }
          return;
        case FRAME.credit:
          if (stream && frame.payload.length >= 4) {
            stream.window += frame.payload.readUInt32BE(0);
            if (stream.window > 0 && stream.source?.isPaused()) stream.source.resume();
          }
          return;
        case FRAME.end:
          stream?.onEnd(frame.payload[0] ?? CHANNEL.stdin);
          return;
        case FRAME.resize: {
          const size = parseJson<{ cols: number; rows: number }>(frame.payload);
          if (stream && size && Number.isInteger(size.cols) && Number.isInteger(size.rows)) stream.onResize(size.cols, size.rows);
          return;
        }
        case FRAME.close:
          if (stream) {
            streams.delete(frame.stream);
            stream.destroy();
          }
          return;
      }
    });
    let reason = 'closed';
    ws.on('unexpected-response', (_req, res) => {
      reason = `refused with HTTP ${res.statusCode}`;
      res.resume();
      ws.terminate();
    });
    ws.on('error', (error) => (reason = error.message));
    ws.on('close', () => {
      keepAlive.stop();
      for (const stream of streams.values()) stream.destroy();
      streams.clear();
      if (closed) return loopDone();
      emit({ type: 'relay-disconnected', reason, retryInMs: delay });
      retryTimer = setTimeout(connectOnce, delay);
      retryTimer.unref();
      delay = Math.min(5_000, delay * 2);
    });
  };

  function send(ws: WebSocket, frame: Buffer): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(frame);
  }

  function openStream(ws: WebSocket, streams: Map<number, AgentStream>, id: number, request: OpenRequest): void {
    const finish = (status: StreamStatus) => {
      if (!streams.has(id)) return;
      streams.delete(id);
      send(ws, encodeJson(FRAME.close, id, status));
    };
    // Until the stream is set up, data from the renter waits here (bounded by the window the coordinator enforces).
    const early: Array<[number, Buffer, () => void]> = [];
    const earlyEnds: number[] = [];
    let destroyed = false;
    const placeholder: AgentStream = {
      window: WINDOW_BYTES,
      onData: (channel, bytes, ack) => early.push([channel, bytes, ack]),
      onEnd: (channel) => earlyEnds.push(channel),
      onResize: () => {},
      destroy: () => (destroyed = true),
    };
    streams.set(id, placeholder);
    const refuse = (reason: string, code: string) => {
      emit({ type: 'relay-stream', kind: request.kind, leaseId: request.leaseId, outcome: 'refused', reason });
      finish({ error: reason, code });
    };
    const produce = (source: Duplex, channel: number, bytes: Buffer) => {
      for (let offset = 0; offset < bytes.length; offset += MAX_CHUNK) {
        const part = bytes.subarray(offset, offset + MAX_CHUNK);
        placeholder.window -= part.length;
        send(ws, encodeData(id, channel, part));
      }
      if (placeholder.window <= 0) source.pause();
    };
    (async () => {
      const containerId = await engine.findLeaseContainer(options.nodeId, request.leaseId);
      if (!containerId) return refuse(`Lease ${request.leaseId} has no running container on this node.`, 'LEASE_NOT_RUNNING_HERE');
      let source: Duplex;
      if (request.kind === 'exec') {
        const exec = await engine.startExec(containerId, { command: request.command, tty: request.tty, stdin: request.stdin, cols: request.cols, rows: request.rows });
        source = exec.socket;
        // Docker reports a command it cannot start as exit code 126 with its message on stdout; shells (and renters'
        // scripts) expect 127 for "not found", and the message belongs on stderr.
        let startFailure: 'not-found' | 'other' | undefined;
        let first = true;
        const classify = (payload: Buffer): number | undefined => {
          if (!first) return undefined;
          first = false;
          const text = payload.subarray(0, 200).toString('utf8');
          if (!text.startsWith('OCI runtime exec failed')) return undefined;
          startFailure = /not found|no such file/i.test(text) ? 'not-found' : 'other';
          return CHANNEL.stderr;
        };
        if (exec.tty) source.on('data', (chunk: Buffer) => produce(source, classify(chunk) ?? CHANNEL.stdout, chunk));
        else {
          const demux = createDemuxer((stream, payload) => produce(source, classify(payload) ?? stream, payload));
          source.on('data', demux);
        }
        let ended = false;
        const done = () => {
          if (ended) return;
          ended = true;
          (async (): Promise<StreamStatus> => {
            const exitCode = await engine.execExitCode(exec.id);
            // A command killed because its container stopped is the lease ending, not the command failing.
            if (!(await engine.findLeaseContainer(options.nodeId, request.leaseId))) {
              return { error: `Lease ${request.leaseId}'s container stopped (the lease ended or its main process exited).`, code: 'LEASE_ENDED' };
            }
            if (exitCode === null) return { error: 'The command did not report an exit code.', code: 'NO_EXIT_CODE' };
            return { exitCode: exitCode === 126 && startFailure === 'not-found' ? 127 : exitCode };
          })().then(finish, (error: Error) => finish({ error: error.message, code: 'DOCKER_API' }));
        };
        source.on('end', done);
        source.on('close', done);
        source.on('error', () => {});
        placeholder.onResize = (cols, rows) => void engine.resizeExec(exec.id, cols, rows).catch(() => {});
        if (request.tty && request.cols && request.rows) placeholder.onResize(request.cols, request.rows);
      } else {
        const host = await portHost(engine, containerId, request.port);
        if ('error' in host) return refuse(host.error, 'PORT_UNREACHABLE');
        const tcp: Socket = netConnect({
          host: host.address,
          port: request.port,
          noDelay: true,
          onread: dataFrameReader(id, CHANNEL.stdout, (frame, bytes) => {
            placeholder.window -= bytes;
            send(ws, frame);
            if (placeholder.window <= 0) tcp.pause();
          }),
        });
        source = tcp;
        await new Promise<void>((resolve, reject) => {
          tcp.once('connect', resolve);
          tcp.once('error', reject);
        }).catch((error: Error) => {
          throw new Error(`Nothing accepts connections on port ${request.port} of lease ${request.leaseId} (${error.message}).`);
        });
        tcp.on('end', () => send(ws, encodeFrame(FRAME.end, id, Buffer.from([CHANNEL.stdout]))));
        tcp.on('close', () => finish({}));
        tcp.on('error', () => {});
      }
      placeholder.source = source;
      placeholder.onData = (_channel, bytes, ack) => {
        if (!source.writable) return ack();
        source.write(bytes, () => ack());
      };
      placeholder.onEnd = (channel) => {
        if (channel === CHANNEL.stdin) source.end();
      };
      placeholder.destroy = () => source.destroy();
      emit({ type: 'relay-stream', kind: request.kind, leaseId: request.leaseId, outcome: 'opened' });
      if (destroyed) return source.destroy();
      for (const [channel, bytes, ack] of early.splice(0)) placeholder.onData(channel, bytes, ack);
      for (const channel of earlyEnds.splice(0)) placeholder.onEnd(channel);
    })().catch((error: Error) => refuse(error.message, 'STREAM_FAILED'));
  }

  connectOnce();
  return {
    connected: () => connectedOnce,
    close: async () => {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      if (socket && socket.readyState !== WebSocket.CLOSED) socket.terminate();
      else loopDone();
      await finished;
    },
  };
}

/**
 * Where a port of the lease container is reached from the host: its address on its own network, or 127.0.0.1 when it
 * shares the host's network — then only the ports the lease declared, never the rig's other loopback services.
 */
async function portHost(engine: DockerEngine, containerId: string, port: number): Promise<{ address: string } | { error: string }> {
  const info = await engine.inspect(containerId);
  const mode = String(info.HostConfig?.NetworkMode ?? '');
  if (mode === 'host') {
    const declared = String(info.Config?.Labels?.[LABEL_PORTS] ?? '').split(',').filter(Boolean).map(Number);
    if (!declared.includes(port)) return { error: `Port ${port} is not one the lease declared (${declared.join(', ') || 'none'}).` };
    return { address: '127.0.0.1' };
  }
  const networks = Object.values((info.NetworkSettings?.Networks ?? {}) as Record<string, { IPAddress?: string }>);
  const address = networks.map((n) => n.IPAddress).find((ip) => ip && ip.length > 0);
  if (!address) return { error: 'The lease container has no network (it was rented without --port), so none of its ports can be reached.' };
  return { address };
}
