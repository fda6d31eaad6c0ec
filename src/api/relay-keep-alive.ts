// The relay link's keep-alive, shared by both ends of the agent ↔ coordinator WebSocket: a peer that went away without
// closing (a dropped NAT mapping, a suspended laptop) is noticed within two intervals instead of at the next write.

/** The part of a `ws` WebSocket the keep-alive uses (so this module does not load `ws` itself). */
export interface KeepAliveSocket {
  ping(): void;
  terminate(): void;
  on(event: 'pong', listener: () => void): unknown;
}

export interface KeepAlive {
  /** Any sign of life from the peer (a message) counts as a pong. */
  markAlive(): void;
  /** Stops pinging; call it when the socket closes. */
  stop(): void;
}

/** How often each end pings; a socket silent for a whole interval after a ping is terminated. */
export const KEEP_ALIVE_INTERVAL_MS = 15_000;

/** Pings `ws` every interval and terminates it when nothing came back since the previous ping. The timer never holds the process open. */
export function keepSocketAlive(ws: KeepAliveSocket, intervalMs = KEEP_ALIVE_INTERVAL_MS): KeepAlive {
  let alive = true;
  const timer = setInterval(() => {
    if (!alive) return ws.terminate();
    alive = false;
    ws.ping();
  }, intervalMs);
  timer.unref();
  ws.on('pong', () => (alive = true));
  return { markAlive: () => (alive = true), stop: () => clearInterval(timer) };
}
