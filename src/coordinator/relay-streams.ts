// The streams an agent's relay link carries, and the coordinator's own stream: a command it runs itself in a lease's
// container (liveness probes, src/coordinator/evidence.ts) on the same path a renter's `lease exec` takes.
import WebSocket from 'ws';
import { CHANNEL, encodeFrame, encodeJson, FRAME, WINDOW_BYTES, type OpenRequest, type StreamStatus } from '../api/relay-protocol.js';

/** Where a stream's output goes: the renter's WebSocket, or the coordinator's own collector (exec). */
export interface StreamSink {
  readonly readyState: number;
  readonly isPaused: boolean;
  send(data: Buffer, cb?: (err?: Error) => void): void;
  resume(): void;
}

export interface RenterStream {
  id: number;
  leaseId: string;
  renter: string;
  renterWs: StreamSink;
  /** Renter bytes the agent may still take before it acknowledges. */
  toAgentWindow: number;
  lastActivity: number;
  finish(status: StreamStatus, code?: number): void;
}

export interface AgentLink {
  nodeId: string;
  ws: WebSocket;
  streams: Map<number, RenterStream>;
  nextId: number;
}

/** What a command the coordinator ran itself in a lease's container (exec) printed, and how it ended. */
export interface RelayExecOutcome {
  status: StreamStatus;
  stdout: string;
  stderr: string;
}

/** Output kept per channel; beyond it is dropped. */
const EXEC_OUTPUT_BYTES = 65_536;

/** The coordinator's own exec stream over `link`: output collected (and acknowledged at once), resolved when it ends. */
export function execOnLink(link: AgentLink, leaseId: string, command: string[], timeoutMs: number, now: () => number): Promise<RelayExecOutcome> {
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
        if (output[channel] && sizes[channel]! + bytes.length <= EXEC_OUTPUT_BYTES) {
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
