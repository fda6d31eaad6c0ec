// The renter's side of the relay: signed WebSocket streams to a lease through the coordinator (DESIGN.md, Lease access).
// exec (stdin/stdout/stderr kept apart, TTY resize, exit code), port streams for port-forward and connect. Every reader
// pauses its WebSocket while its writer is full, and every writer stops reading its source while the socket is behind,
// so a slow end slows the other instead of filling memory.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { createRequire } from 'node:module';
import type WebSocketType from 'ws';
import { CHANNEL, channelMessage, MAX_CHUNK, RELAY_PATHS, relayEndpoint, zeroMask, type StreamStatus } from '../api/relay-protocol.js';
import { createSigner, type SigningKeypair } from '../api/signing.js';
import { CancelledError, ExitCode, ExternalError, UserError } from '../errors.js';

// ws is CommonJS: required, not imported, because ESM's named-export scan of its sources costs a renter's every
// `lease exec` tens of milliseconds of start-up (measured 21-33 ms required vs 78-187 ms imported here).
const WebSocket = createRequire(import.meta.url)('ws') as typeof WebSocketType;
type WebSocket = WebSocketType;

export interface RelayTarget {
  apiUrl: string;
  keypair: SigningKeypair;
  leaseId: string;
  /** The node of a multi-node lease (default: its first). */
  node?: string;
}

/** Bytes queued on the WebSocket above which the local source is paused. */
const HIGH_WATER = 1024 * 1024;

/** Opens one signed stream; rejects with the coordinator's refusal (not found, lease ended, agent offline…). */
export function openRelaySocket(target: RelayTarget, path: string, signal?: AbortSignal): Promise<WebSocket> {
  const { url, signedPath } = relayEndpoint(target.apiUrl, path);
  const headers = createSigner(target.keypair)('GET', signedPath, '');
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { ...headers }, perMessageDeflate: false, maxPayload: 2 * MAX_CHUNK + 64, handshakeTimeout: 20_000, generateMask: zeroMask });
    const onAbort = () => ws.terminate();
    signal?.addEventListener('abort', onAbort, { once: true });
    ws.once('open', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(ws);
    });
    let refused = false;
    ws.once('unexpected-response', (_req, res) => {
      refused = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let body: { error?: { code?: string; message?: string; hint?: string } } = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          // Not our coordinator (a proxy's page): the status says enough.
        }
        const status = res.statusCode ?? 0;
        const message = body.error?.message ?? `The coordinator refused the stream (HTTP ${status}).`;
        const code = body.error?.code ?? 'RELAY_REFUSED';
        const exitCode = status === 503 || status >= 500 ? ExitCode.external : status === 429 || status === 409 ? ExitCode.unavailable : ExitCode.failure;
        reject(new UserError(message, { code, hint: body.error?.hint, exitCode, details: { leaseId: target.leaseId, status } }));
        ws.terminate();
      });
    });
    ws.on('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      if (refused) return;
      if (signal?.aborted) return reject(new CancelledError());
      reject(new ExternalError(`Cannot reach the coordinator's relay at ${url.split('?')[0]}: ${error.message}`, { code: 'RELAY_UNREACHABLE' }));
    });
  });
}

/** Pipes `source` into the WebSocket as `channel` frames, pausing it while the socket is behind; ends with 255+channel. */
function pumpInto(ws: WebSocket, source: Readable, channel: number): () => void {
  let queued = 0;
  const onData = (chunk: Buffer) => {
    for (let offset = 0; offset < chunk.length; offset += MAX_CHUNK) {
      const part = chunk.subarray(offset, offset + MAX_CHUNK);
      queued += part.length;
      ws.send(channelMessage(channel, part), () => {
        queued -= part.length;
        if (queued < HIGH_WATER && source.isPaused()) source.resume();
      });
    }
    if (queued >= HIGH_WATER) source.pause();
  };
  const onEnd = () => {
    if (ws.readyState === WebSocket.OPEN) ws.send(Buffer.from([CHANNEL.close, channel]));
  };
  source.on('data', onData);
  source.once('end', onEnd);
  // A socket accepted with pauseOnConnect (or a paused stdin) stays paused until told otherwise.
  source.resume();
  return () => {
    source.off('data', onData);
    source.off('end', onEnd);
  };
}

/** Writes to `sink`, pausing the WebSocket until it drains. */
function writeOrPause(ws: WebSocket, sink: Writable, bytes: Buffer): void {
  if (!sink.write(bytes)) {
    ws.pause();
    sink.once('drain', () => ws.resume());
  }
}

function disconnected(): ExternalError {
  return new ExternalError('The relay connection closed before the stream finished: the coordinator or the provider went away.', {
    code: 'RELAY_DISCONNECTED',
    hint: 'Check `iocli lease show ID`; retry once the coordinator and the node are back.',
  });
}

function statusError(status: StreamStatus, leaseId: string): UserError {
  const code = status.code ?? 'RELAY_STREAM_FAILED';
  const external = code === 'AGENT_GONE' || code === 'COORDINATOR_GONE' || code === 'DOCKER_API' || code === 'RELAY_FORWARD_FAILED';
  return external
    ? new ExternalError(status.error ?? 'The stream failed.', { code, details: { leaseId } })
    : new UserError(status.error ?? 'The stream failed.', { code, details: { leaseId } });
}

export interface ExecOptions extends RelayTarget {
  command: string[];
  tty: boolean;
  /** Send this stream as the command's stdin (then end it). Absent: the command's stdin is closed. */
  stdin?: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Initial terminal size and later changes (tty only). */
  size?: { cols: number; rows: number };
  onResize?: (listener: (size: { cols: number; rows: number }) => void) => () => void;
  signal?: AbortSignal;
}

/** Runs a command in the lease's container and resolves with its exit code. */
export async function execInLease(options: ExecOptions): Promise<number> {
  const path = RELAY_PATHS.exec(options.leaseId, {
    command: options.command,
    tty: options.tty,
    stdin: options.stdin !== undefined,
    node: options.node,
    cols: options.size?.cols,
    rows: options.size?.rows,
  });
  const ws = await openRelaySocket(options, path, options.signal);
  return new Promise<number>((resolve, reject) => {
    let status: StreamStatus | undefined;
    const stopPump = options.stdin ? pumpInto(ws, options.stdin, CHANNEL.stdin) : () => {};
    const stopResize = options.tty && options.onResize ? options.onResize((size) => ws.readyState === WebSocket.OPEN && ws.send(channelMessage(CHANNEL.resize, JSON.stringify(size)))) : () => {};
    const onAbort = () => ws.terminate();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    ws.on('message', (message: Buffer) => {
      if (message.length === 0) return;
      const channel = message[0]!;
      const payload = message.subarray(1);
      if (channel === CHANNEL.stdout) writeOrPause(ws, options.stdout, payload);
      else if (channel === CHANNEL.stderr) writeOrPause(ws, options.stderr, payload);
      else if (channel === CHANNEL.status) {
        try {
          status = JSON.parse(payload.toString('utf8')) as StreamStatus;
        } catch {
          status = { error: 'The coordinator sent an unreadable status.' };
        }
      }
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      stopPump();
      stopResize();
      options.signal?.removeEventListener('abort', onAbort);
      if (options.signal?.aborted) return reject(new CancelledError('Cancelled: the command in the lease may still be running.'));
      if (status?.exitCode !== undefined) return resolve(status.exitCode);
      reject(status ? statusError(status, options.leaseId) : disconnected());
    });
  });
}

/** Joins a local duplex (a TCP connection, or stdin+stdout) to a port of the lease's container; resolves when both ends close. */
export async function pipePort(options: RelayTarget & { port: number; input: Readable; output: Writable; signal?: AbortSignal; ws?: WebSocket }): Promise<void> {
  const ws = options.ws ?? (await openRelaySocket(options, RELAY_PATHS.port(options.leaseId, options.port, options.node), options.signal));
  return new Promise<void>((resolve, reject) => {
    let status: StreamStatus | undefined;
    const stopPump = pumpInto(ws, options.input, CHANNEL.stdin);
    const onAbort = () => ws.terminate();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    ws.on('message', (message: Buffer) => {
      if (message.length === 0) return;
      const channel = message[0]!;
      if (channel === CHANNEL.stdout) writeOrPause(ws, options.output, message.subarray(1));
      else if (channel === CHANNEL.close) options.output.end();
      else if (channel === CHANNEL.status) {
        try {
          status = JSON.parse(message.subarray(1).toString('utf8')) as StreamStatus;
        } catch {
          status = {};
        }
      }
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      stopPump();
      options.signal?.removeEventListener('abort', onAbort);
      if (!options.output.writableEnded) options.output.end();
      if (options.signal?.aborted) return resolve();
      if (status && status.error) return reject(statusError(status, options.leaseId));
      if (!status) return reject(disconnected());
      resolve();
    });
  });
}

export interface PortForward {
  /** The local addresses listening, one per LOCAL:REMOTE pair. */
  listeners: Array<{ host: string; localPort: number; remotePort: number }>;
  /** Connections currently relayed. */
  active(): number;
  close(): Promise<void>;
}

/**
 * Listens on `address` for each LOCAL:REMOTE pair; every accepted connection becomes its own relay stream. Errors of one
 * connection (the port refused, a limit reached) close that connection and are reported, the others go on.
 */
export async function startPortForward(
  options: RelayTarget & { pairs: Array<{ local: number; remote: number }>; address?: string; onConnectionError?: (error: Error) => void },
): Promise<PortForward> {
  const host = options.address ?? '127.0.0.1';
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const listeners: PortForward['listeners'] = [];
  try {
    for (const pair of options.pairs) {
      const server = createServer({ pauseOnConnect: true, highWaterMark: 1024 * 1024, noDelay: true }, (socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {});
        openRelaySocket(options, RELAY_PATHS.port(options.leaseId, pair.remote, options.node))
          .then((ws) => {
            socket.once('close', () => ws.close());
            // Ended (the container's side finished): what the local reader has not taken yet must still reach it.
            return pipePort({ ...options, port: pair.remote, input: socket, output: socket, ws }).finally(() =>
              socket.writableEnded && !socket.writableFinished ? socket.once('finish', () => socket.destroy()) : socket.destroy(),
            );
          })
          .catch((error: Error) => {
            socket.destroy();
            options.onConnectionError?.(error);
          });
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(pair.local, host, () => resolve());
      }).catch((error: NodeJS.ErrnoException) => {
        throw new UserError(`Cannot listen on ${host}:${pair.local}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}.`, {
          code: 'PORT_IN_USE',
          hint: 'Pick another local port (LOCAL:REMOTE), or 0 for any free one.',
        });
      });
      servers.push(server);
      listeners.push({ host, localPort: (server.address() as AddressInfo).port, remotePort: pair.remote });
    }
  } catch (error) {
    for (const server of servers) server.close();
    throw error;
  }
  return {
    listeners,
    active: () => sockets.size,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}
