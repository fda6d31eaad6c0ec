// The WebSocket half of the RPC (solana.com/docs/rpc/websocket): account, program, logs, signature, slot, root and
// slotsUpdates subscriptions with their unsubscribes, the ones @solana/web3.js 1.x and @solana/kit use.
// web3.js speaks JSON-RPC 2.0 over rpc-websockets; notifications carry the subscription id in params.
// This module answers (un)subscribe requests; ws-subscription-registry.ts keeps the subscriptions and
// ws-notifications.ts sends them what the chain does.
//
// Unknown methods (blockSubscribe, voteSubscribe, which a validator also serves only when enabled) get "Method not
// found". web3.js re-sends a failed subscribe at once, forever; so repeats of an unknown method on one socket are
// answered with a growing delay (up to 30 s), which turns its tight retry loop into an occasional retry.

import type { WebSocket, WebSocketServer } from 'ws';
import type { ChainState } from './chain-state.js';
import { commitmentOf } from './commitment.js';
import { configOf, programAccountFilter } from './rpc-encoding.js';
import type { Config } from './rpc-encoding.js';
import { RpcError } from './svm-errors.js';
import { parsePublicKey } from './wire-transaction.js';
import { notifyChainEvents } from './ws-notifications.js';
import { send, SubscriptionRegistry } from './ws-subscription-registry.js';

const UNKNOWN_METHOD_MAX_DELAY_MS = 30_000;
const UNKNOWN_METHOD_FIRST_DELAY_MS = 250;

/** Serves subscriptions on every socket the given servers accept. Returns a function that detaches from the chain. */
export function serveSubscriptions(chain: ChainState, servers: WebSocketServer[]): () => void {
  const subscriptions = new SubscriptionRegistry();
  const { when, notifySignature, detach } = notifyChainEvents(chain, subscriptions);

  const unknownCounts = new Map<WebSocket, Map<string, number>>();

  const handle = (socket: WebSocket, request: { id?: unknown; method?: unknown; params?: unknown }) => {
    // Notifications (no id), such as web3.js's keep-alive "ping", need no answer.
    if (request.id === undefined || request.id === null) return;
    const reply = (result: unknown) => send(socket, { jsonrpc: '2.0', result, id: request.id });
    const fail = (code: number, message: string) => send(socket, { jsonrpc: '2.0', error: { code, message }, id: request.id });
    const params = Array.isArray(request.params) ? request.params : [];
    const method = typeof request.method === 'string' ? request.method : '';
    const config = configOf(params.at(-1));
    const commitment = commitmentOf(config?.commitment);
    try {
      switch (method) {
        case 'accountSubscribe': {
          const key = parsePublicKey(params[0]).toBase58();
          encodeAccountCheck(config);
          return reply(subscriptions.add(socket, { kind: 'account', commitment, config, key }));
        }
        case 'programSubscribe': {
          const key = parsePublicKey(params[0]).toBase58();
          encodeAccountCheck(config);
          const matches = programAccountFilter(config?.filters);
          return reply(subscriptions.add(socket, { kind: 'program', commitment, config, key, matches }));
        }
        case 'logsSubscribe': {
          const filter = params[0];
          let mentions: string | undefined;
          if (filter !== 'all' && filter !== 'allWithVotes') {
            const list = (filter as { mentions?: unknown } | undefined)?.mentions;
            if (!Array.isArray(list) || list.length !== 1) throw new RpcError(-32602, 'Invalid Request: Only 1 address supported');
            mentions = parsePublicKey(list[0]).toBase58();
          }
          return reply(subscriptions.add(socket, { kind: 'logs', commitment, config, mentions, logsWithVotes: filter === 'allWithVotes' }));
        }
        case 'signatureSubscribe': {
          const signature = params[0];
          if (typeof signature !== 'string') throw new RpcError(-32602, 'Invalid param: signature');
          const id = subscriptions.add(socket, {
            kind: 'signature',
            commitment,
            config,
            key: signature,
            receivedNotification: config?.enableReceivedNotification === true,
          });
          reply(id);
          // Already landed: tell as soon as it reaches the commitment, as a validator does from its status cache.
          const record = chain.history.get(signature);
          if (record) {
            when(record.slot, commitment, () => {
              const sub = subscriptions.get(id);
              if (sub) notifySignature(sub, record);
            });
          }
          return;
        }
        case 'slotSubscribe':
          return reply(subscriptions.add(socket, { kind: 'slot', commitment, config }));
        case 'rootSubscribe':
          return reply(subscriptions.add(socket, { kind: 'root', commitment, config }));
        case 'slotsUpdatesSubscribe':
          return reply(subscriptions.add(socket, { kind: 'slotsUpdates', commitment, config }));
        case 'accountUnsubscribe':
        case 'programUnsubscribe':
        case 'logsUnsubscribe':
        case 'signatureUnsubscribe':
        case 'slotUnsubscribe':
        case 'rootUnsubscribe':
        case 'slotsUpdatesUnsubscribe': {
          const id = params[0];
          const sub = typeof id === 'number' ? subscriptions.get(id) : undefined;
          if (!sub || sub.socket !== socket || `${sub.kind}Unsubscribe` !== method) throw new RpcError(-32602, 'Invalid subscription id.');
          subscriptions.remove(sub.id);
          return reply(true);
        }
        default: {
          let counts = unknownCounts.get(socket);
          if (!counts) unknownCounts.set(socket, (counts = new Map()));
          const seen = counts.get(method) ?? 0;
          counts.set(method, seen + 1);
          if (seen === 0) return fail(-32601, 'Method not found');
          const delay = Math.min(UNKNOWN_METHOD_MAX_DELAY_MS, UNKNOWN_METHOD_FIRST_DELAY_MS * 2 ** (seen - 1));
          setTimeout(() => fail(-32601, 'Method not found'), delay).unref();
          return;
        }
      }
    } catch (error) {
      if (error instanceof RpcError) return fail(error.code, error.message);
      return fail(-32603, `Internal error: ${(error as Error).message}`);
    }
  };

  for (const server of servers) {
    server.on('connection', (socket) => {
      subscriptions.openSocket(socket);
      socket.on('message', (data) => {
        let request: unknown;
        try {
          request = JSON.parse(data.toString());
        } catch {
          return send(socket, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
        }
        for (const item of Array.isArray(request) ? request : [request]) {
          if (item && typeof item === 'object') handle(socket, item as { id?: unknown; method?: unknown; params?: unknown });
        }
      });
      socket.on('close', () => {
        subscriptions.closeSocket(socket);
        unknownCounts.delete(socket);
      });
      socket.on('error', () => socket.terminate());
    });
  }
  return detach;
}

/** Fails a subscription at once for an encoding the chain cannot produce, instead of on its first notification. */
function encodeAccountCheck(config: Config): void {
  const encoding = config?.encoding;
  if (encoding !== undefined && !['base58', 'base64', 'jsonParsed'].includes(encoding as string)) {
    throw new RpcError(-32602, `Invalid param: unsupported encoding ${String(encoding)}`);
  }
}
