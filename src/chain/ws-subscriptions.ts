// The WebSocket half of the RPC: signatureSubscribe (what web3.js confirmTransaction waits on) and slotSubscribe.
// web3.js 1.x speaks JSON-RPC 2.0 over rpc-websockets; notifications carry the subscription id in params.

import type { WebSocket, WebSocketServer } from 'ws';
import type { ChainState } from './chain-state.js';
import type { TransactionRecord } from './history.js';

interface SignatureWatch {
  socket: WebSocket;
  id: number;
}

/** Serves subscriptions on every socket the given servers accept. Returns a function that detaches from the chain. */
export function serveSubscriptions(chain: ChainState, servers: WebSocketServer[]): () => void {
  let nextId = 0;
  const bySignature = new Map<string, SignatureWatch[]>();
  const slotWatchers = new Map<number, WebSocket>();
  const signatureOf = new Map<number, string>();
  const socketSubscriptions = new Map<WebSocket, Set<number>>();

  const send = (socket: WebSocket, payload: unknown) => {
    if (socket.readyState === 1) socket.send(JSON.stringify(payload));
  };
  const notifySignature = (watch: SignatureWatch, record: TransactionRecord) =>
    send(watch.socket, {
      jsonrpc: '2.0',
      method: 'signatureNotification',
      params: { result: { context: { slot: record.slot }, value: { err: record.err } }, subscription: watch.id },
    });

  const detachLanded = chain.onLanded((record) => {
    const watches = bySignature.get(record.signature);
    if (!watches) return;
    bySignature.delete(record.signature);
    for (const watch of watches) {
      socketSubscriptions.get(watch.socket)?.delete(watch.id);
      signatureOf.delete(watch.id);
      notifySignature(watch, record);
    }
  });
  const detachSlot = chain.clock.onSlot((slot) => {
    for (const [id, socket] of slotWatchers) {
      send(socket, { jsonrpc: '2.0', method: 'slotNotification', params: { result: { parent: slot - 1, root: slot, slot }, subscription: id } });
    }
  });

  const unsubscribe = (socket: WebSocket, id: number): boolean => {
    const owned = socketSubscriptions.get(socket);
    if (!owned?.delete(id)) return false;
    slotWatchers.delete(id);
    const signature = signatureOf.get(id);
    if (signature !== undefined) {
      signatureOf.delete(id);
      const rest = (bySignature.get(signature) ?? []).filter((watch) => watch.id !== id);
      if (rest.length === 0) bySignature.delete(signature);
      else bySignature.set(signature, rest);
    }
    return true;
  };

  const handle = (socket: WebSocket, request: { id?: unknown; method?: unknown; params?: unknown }) => {
    // Notifications (no id), such as web3.js's keep-alive "ping", need no answer.
    if (request.id === undefined || request.id === null) return;
    const reply = (result: unknown) => send(socket, { jsonrpc: '2.0', result, id: request.id });
    const fail = (code: number, message: string) => send(socket, { jsonrpc: '2.0', error: { code, message }, id: request.id });
    const params = Array.isArray(request.params) ? request.params : [];
    switch (request.method) {
      case 'signatureSubscribe': {
        const signature = params[0];
        if (typeof signature !== 'string') return fail(-32602, 'Invalid param: signature');
        const id = nextId++;
        socketSubscriptions.get(socket)!.add(id);
        reply(id);
        // Already landed: tell at once, as a validator does for signatures in its status cache.
        const record = chain.history.get(signature);
        if (record) {
          socketSubscriptions.get(socket)!.delete(id);
          notifySignature({ socket, id }, record);
        } else {
          const watches = bySignature.get(signature) ?? [];
          watches.push({ socket, id });
          bySignature.set(signature, watches);
          signatureOf.set(id, signature);
        }
        return;
      }
      case 'slotSubscribe': {
        const id = nextId++;
        socketSubscriptions.get(socket)!.add(id);
        slotWatchers.set(id, socket);
        return reply(id);
      }
      case 'signatureUnsubscribe':
      case 'slotUnsubscribe':
        return reply(unsubscribe(socket, params[0] as number));
      default:
        return fail(-32601, 'Method not found');
    }
  };

  for (const server of servers) {
    server.on('connection', (socket) => {
      socketSubscriptions.set(socket, new Set());
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
        for (const id of [...(socketSubscriptions.get(socket) ?? [])]) unsubscribe(socket, id);
        socketSubscriptions.delete(socket);
      });
      socket.on('error', () => socket.terminate());
    });
  }
  return () => {
    detachLanded();
    detachSlot();
  };
}
