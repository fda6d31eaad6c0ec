// Relay streams between replicas: a renter's stream that lands on a replica without the agent's link is piped to the
// replica that holds it (relay_links names it, with a secret only replicas can read). The forwarding replica already
// checked the renter's signature and burned its nonce, so it vouches for the renter with the holder's secret.
import type { Kysely } from 'kysely';
import { timingSafeEqual } from 'node:crypto';
import WebSocket from 'ws';
import { channelMessage, CHANNEL, MAX_CHUNK, zeroMask, type StreamStatus } from '../api/relay-protocol.js';
import { HttpError } from './http-error.js';

const FORWARD_HEADER = 'x-iocli-relay-forward';
const FORWARD_ACTOR = 'x-iocli-relay-actor';

/** A stream this replica pipes to another one. */
export interface ForwardedStream {
  leaseId: string;
  renter: string;
  lastActivity: number;
  close(status: StreamStatus): void;
}

/** Whether the request says it is forwarded by a replica (verify it with forwardedRenter first). */
export function isForwarded(headers: Record<string, string | string[] | undefined>): boolean {
  return typeof headers[FORWARD_HEADER] === 'string';
}

/** The renter a forwarding replica vouches for; undefined when not forwarded; 401 for a wrong secret. */
export function forwardedRenter(headers: Record<string, string | string[] | undefined>, secret: string): string | undefined {
  const offered = headers[FORWARD_HEADER];
  if (typeof offered !== 'string') return undefined;
  const a = Buffer.from(offered);
  const b = Buffer.from(secret);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new HttpError(401, 'UNAUTHORIZED', 'Bad relay forwarding secret.');
  return String(headers[FORWARD_ACTOR] ?? '');
}

/**
 * Pipes a renter WebSocket to the replica holding the node's link, as the same renter. The entry is in `open` while the
 * stream lasts (stream limits and the ended-lease check count it).
 */
export function forwardStream(target: { replica_url: string; replica_secret: string }, url: string, renter: string, renterWs: WebSocket, leaseId: string, open: Set<ForwardedStream>, now: () => number): void {
  const upstreamUrl = `${target.replica_url.replace(/^http/, 'ws').replace(/\/+$/, '')}${url}`;
  const upstream = new WebSocket(upstreamUrl, { headers: { [FORWARD_HEADER]: target.replica_secret, [FORWARD_ACTOR]: renter }, perMessageDeflate: false, maxPayload: 2 * MAX_CHUNK + 64, generateMask: zeroMask });
  const entry: ForwardedStream = {
    leaseId,
    renter,
    lastActivity: now(),
    close: (status) => {
      if (renterWs.readyState === WebSocket.OPEN) {
        renterWs.send(channelMessage(CHANNEL.status, JSON.stringify(status)));
        renterWs.close(1011);
      }
      upstream.terminate();
    },
  };
  open.add(entry);
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
  upstream.on('error', () => entry.close({ error: "The coordinator replica holding the node's link is unreachable.", code: 'RELAY_FORWARD_FAILED' }));
  upstream.on('close', (code) => {
    open.delete(entry);
    if (renterWs.readyState === WebSocket.OPEN) renterWs.close(code === 1005 ? 1000 : code);
  });
  renterWs.on('close', () => {
    open.delete(entry);
    upstream.close();
  });
  renterWs.on('error', () => {});
}

/** Records (or, on release, removes) that this replica holds the node's link, so other replicas forward to it. */
export async function recordRelayLink(db: Kysely<any>, link: { nodeId: string; replicaUrl: string | undefined; secret: string; held: boolean; at: number }): Promise<void> {
  const { nodeId, replicaUrl, secret, at } = link;
  if (!replicaUrl) return;
  if (link.held) {
    await db
      .insertInto('relay_links')
      .values({ node_id: nodeId, replica_url: replicaUrl, replica_secret: secret, updated_at: at })
      .onConflict((oc) => oc.column('node_id').doUpdateSet({ replica_url: replicaUrl, replica_secret: secret, updated_at: at }))
      .execute();
  } else {
    // Only this replica's own record: a newer link on another replica has overwritten it with its secret.
    await db.deleteFrom('relay_links').where('node_id', '=', nodeId).where('replica_secret', '=', secret).execute();
  }
}
