// The relay's wire formats (DESIGN.md, Lease access), shared by the coordinator, the agent and the renter's CLI.
//
// Renter ↔ coordinator: one WebSocket per stream, binary messages in Kubernetes' channel framing (first byte = channel):
//   0 stdin / bytes to the port, 1 stdout / bytes from the port, 2 stderr, 3 status JSON ({exitCode} or {error}),
//   4 resize JSON ({cols, rows}), 255 + channel byte = that channel's end (EOF, half-close).
// Agent ↔ coordinator: one WebSocket per node multiplexing every stream; each binary message is
//   [type u8][stream id u32 BE][payload]. A DATA payload starts with its channel byte. Flow control is by credit, as in
//   SSH or HTTP/2: each side may send at most WINDOW_BYTES of DATA per stream that the other side has not yet
//   acknowledged with CREDIT, and acknowledges only what it has handed on (written to a socket, process or renter). So
//   no process buffers more than a window per stream, whatever the speed of the slowest reader.

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, status: 3, resize: 4, close: 255 } as const;

export const FRAME = { open: 1, data: 2, credit: 3, end: 4, close: 5, resize: 6 } as const;
export type FrameType = (typeof FRAME)[keyof typeof FRAME];

/**
 * Bytes a sender may have unacknowledged per stream and direction. 2 MB, not more: what a window holds waits in the
 * relaying process's memory while the reader is slower, and 4 MB of it outlived young-generation collections often
 * enough to cost the coordinator ~17 full collections per 300 MB forwarded (~0.4 s of CPU), against 2 with 2 MB.
 */
export const WINDOW_BYTES = 2 * 1024 * 1024;
/** The largest DATA payload one frame carries. */
export const MAX_CHUNK = 256 * 1024;

export type OpenRequest =
  | { kind: 'exec'; leaseId: string; command: string[]; tty: boolean; stdin: boolean; cols?: number; rows?: number }
  | { kind: 'port'; leaseId: string; port: number };

/** How a stream ended: the exec's exit code, or an error people can read. */
export interface StreamStatus {
  exitCode?: number;
  error?: string;
  code?: string;
}

export interface AgentFrame {
  type: FrameType;
  stream: number;
  payload: Buffer;
}

export function encodeFrame(type: FrameType, stream: number, payload?: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + (payload?.length ?? 0));
  frame[0] = type;
  frame.writeUInt32BE(stream >>> 0, 1);
  if (payload) frame.set(payload, 5);
  return frame;
}

export function encodeData(stream: number, channel: number, bytes: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(6 + bytes.length);
  frame[0] = FRAME.data;
  frame.writeUInt32BE(stream >>> 0, 1);
  frame[5] = channel;
  frame.set(bytes, 6);
  return frame;
}

/** Bytes before a DATA frame's payload: type, stream id, channel. */
export const DATA_HEADER = 6;

/**
 * Shorter reads are copied out of the read buffer (which is then reused) rather than handed over whole, so the memory
 * a window's worth of queued frames pins is at most 4× the window.
 */
export const COPY_BELOW = MAX_CHUNK / 4;

/**
 * A `net.connect({ onread })` reader that turns each read into a whole DATA frame: the socket reads into a buffer just
 * after room for the header, so a large read goes on to the WebSocket without being copied (every byte a relay moves
 * crosses three processes; that copy and its garbage were the agent's largest cost). A small read is copied into a
 * frame of its own size and the buffer is reused, so a trickle of tiny reads never pins a large buffer each.
 */
export function dataFrameReader(stream: number, channel: number, onFrame: (frame: Buffer, bytes: number) => void): { buffer: () => Buffer; callback: (bytes: number, buffer: Buffer) => boolean } {
  let current: Buffer | undefined;
  return {
    // Node asks for the next read's buffer after each callback, so `current` is never handed over while a read uses it.
    buffer: () => (current ??= Buffer.allocUnsafe(DATA_HEADER + MAX_CHUNK)).subarray(DATA_HEADER),
    callback: (bytes) => {
      let frame = current!.subarray(0, DATA_HEADER + bytes);
      if (bytes < COPY_BELOW) frame = Buffer.from(frame);
      else current = undefined;
      frame[0] = FRAME.data;
      frame.writeUInt32BE(stream >>> 0, 1);
      frame[5] = channel;
      onFrame(frame, bytes);
      return true;
    },
  };
}

export function encodeCredit(stream: number, bytes: number): Buffer {
  const frame = Buffer.allocUnsafe(9);
  frame[0] = FRAME.credit;
  frame.writeUInt32BE(stream >>> 0, 1);
  frame.writeUInt32BE(bytes >>> 0, 5);
  return frame;
}

export function encodeJson(type: FrameType, stream: number, value: unknown): Buffer {
  return encodeFrame(type, stream, Buffer.from(JSON.stringify(value)));
}

export function decodeFrame(message: Buffer): AgentFrame | undefined {
  if (message.length < 5) return undefined;
  const type = message[0] as FrameType;
  if (type < FRAME.open || type > FRAME.resize) return undefined;
  return { type, stream: message.readUInt32BE(1), payload: message.subarray(5) };
}

export function parseJson<T>(payload: Buffer): T | undefined {
  try {
    return JSON.parse(payload.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** A renter-side message: channel byte + payload. */
export function channelMessage(channel: number, payload: Uint8Array | string): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const message = Buffer.allocUnsafe(1 + bytes.length);
  message[0] = channel;
  message.set(bytes, 1);
  return message;
}

/** Paths of the relay endpoints (the query carries the exec's options, so the signature covers them). */
export const RELAY_PATHS = {
  agent: (nodeId: string) => `/v1/nodes/${encodeURIComponent(nodeId)}/relay`,
  exec: (leaseId: string, query: { command: string[]; tty?: boolean; stdin?: boolean; node?: string; cols?: number; rows?: number }) => {
    const params = new URLSearchParams();
    for (const arg of query.command) params.append('cmd', arg);
    if (query.tty) params.set('tty', '1');
    if (query.stdin) params.set('stdin', '1');
    if (query.node) params.set('node', query.node);
    if (query.cols && query.rows) {
      params.set('cols', String(query.cols));
      params.set('rows', String(query.rows));
    }
    return `/v1/leases/${encodeURIComponent(leaseId)}/exec?${params.toString()}`;
  },
  port: (leaseId: string, port: number, node?: string) =>
    `/v1/leases/${encodeURIComponent(leaseId)}/port/${port}${node ? `?node=${encodeURIComponent(node)}` : ''}`,
};

/**
 * Where a relay endpoint is reached from the coordinator's API URL (http → ws, https → wss, keeping any base path), and
 * the path a request signature covers (the base path included, as for every other API request).
 */
export function relayEndpoint(apiUrl: string, path: string): { url: string; signedPath: string } {
  const base = new URL(apiUrl);
  const signedPath = `${base.pathname.replace(/\/+$/, '')}${path}`;
  return { url: `${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}${signedPath}`, signedPath };
}

/**
 * WebSocket clients here are iocli processes, not browsers: the per-frame XOR mask (RFC 6455 §10.3, there to stop
 * browser scripts poisoning proxy caches) buys nothing, and an all-zero mask lets ws skip the XOR pass over every byte.
 */
export function zeroMask(mask: Buffer): void {
  mask.fill(0);
}
