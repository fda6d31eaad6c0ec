// The WebSocket half of the RPC (solana.com/docs/rpc/websocket): account, program, logs, signature, slot, root and
// slotsUpdates subscriptions with their unsubscribes, the ones @solana/web3.js 1.x and @solana/kit use.
// web3.js speaks JSON-RPC 2.0 over rpc-websockets; notifications carry the subscription id in params.
//
// Unknown methods (blockSubscribe, voteSubscribe, which a validator also serves only when enabled) get "Method not
// found". web3.js re-sends a failed subscribe at once, forever; so repeats of an unknown method on one socket are
// answered with a growing delay (up to 30 s), which turns its tight retry loop into an occasional retry.

import type { WebSocket, WebSocketServer } from 'ws';
import type { ChainState } from './chain-state.js';
import type { AccountView } from './svm-views.js';
import { commitmentOf, reached, slotAt } from './commitment.js';
import type { Commitment } from './commitment.js';
import type { TransactionRecord } from './history.js';
import { SYSTEM_PROGRAM } from './json-parsed.js';
import { configOf, encodeAccount, isWritable, programAccountFilter } from './rpc-encoding.js';
import type { Config } from './rpc-encoding.js';
import { parsePublicKey } from './wire-transaction.js';
import { RpcError } from './svm-errors.js';

type Kind = 'account' | 'program' | 'logs' | 'signature' | 'slot' | 'root' | 'slotsUpdates';

interface Subscription {
  id: number;
  socket: WebSocket;
  kind: Kind;
  commitment: Commitment;
  config: Config;
  /** account / program address, or signature */
  key?: string;
  /** logs: the one address a `mentions` filter names */
  mentions?: string;
  logsWithVotes?: boolean;
  matches?: (account: AccountView) => boolean;
  receivedNotification?: boolean;
}

const UNKNOWN_METHOD_MAX_DELAY_MS = 30_000;
const UNKNOWN_METHOD_FIRST_DELAY_MS = 250;

/** Serves subscriptions on every socket the given servers accept. Returns a function that detaches from the chain. */
export function serveSubscriptions(chain: ChainState, servers: WebSocketServer[]): () => void {
  let nextId = 0;
  const subscriptions = new Map<number, Subscription>();
  const byKind = new Map<Kind, Set<Subscription>>();
  const bySignature = new Map<string, Set<Subscription>>();
  const byAccount = new Map<string, Set<Subscription>>();
  const socketSubscriptions = new Map<WebSocket, Set<number>>();
  /** Notifications waiting for their transaction's slot to reach the subscriber's commitment ('realistic' mode). */
  let pending: { slot: number; commitment: Commitment; fire: () => void }[] = [];
  let lastRoot = slotAt(chain.commitment, chain.clock.slot, 'finalized');
  const decimalsOf = (mint: string) => chain.mintDecimals(mint);
  const decimalsAwareEncode = (account: AccountView | null, config: Config) => encodeAccount(account, config, decimalsOf);

  const kindSet = (kind: Kind) => {
    let set = byKind.get(kind);
    if (!set) byKind.set(kind, (set = new Set()));
    return set;
  };
  const send = (socket: WebSocket, payload: unknown) => {
    if (socket.readyState === 1) socket.send(JSON.stringify(payload));
  };
  const notify = (sub: Subscription, method: string, result: unknown) =>
    send(sub.socket, { jsonrpc: '2.0', method, params: { result, subscription: sub.id } });
  /** Runs `fire` once `slot` reaches `commitment`: now, or on a later slot. */
  const when = (slot: number, commitment: Commitment, fire: () => void) => {
    if (reached(chain.commitment, chain.clock.slot, slot, commitment)) fire();
    else pending.push({ slot, commitment, fire });
  };

  const remove = (id: number): boolean => {
    const sub = subscriptions.get(id);
    if (!sub) return false;
    subscriptions.delete(id);
    socketSubscriptions.get(sub.socket)?.delete(id);
    byKind.get(sub.kind)?.delete(sub);
    const index = sub.kind === 'signature' ? bySignature : sub.kind === 'account' ? byAccount : undefined;
    if (index && sub.key !== undefined) {
      const set = index.get(sub.key);
      set?.delete(sub);
      if (set?.size === 0) index.delete(sub.key);
    }
    return true;
  };

  const notifySignature = (sub: Subscription, record: TransactionRecord) => {
    // A signature subscription ends with its notification (the RPC disposes of it, and clients know that).
    if (!subscriptions.has(sub.id)) return;
    remove(sub.id);
    notify(sub, 'signatureNotification', { context: { slot: record.slot }, value: { err: record.err } });
  };

  const zeroAccount = { lamports: 0n, data: new Uint8Array(), owner: SYSTEM_PROGRAM, executable: false, rentEpoch: 0n };

  const detachLanded = chain.onLanded((record) => {
    for (const sub of bySignature.get(record.signature) ?? []) {
      if (sub.receivedNotification) notify(sub, 'signatureNotification', { context: { slot: record.slot }, value: 'receivedSignature' });
      when(record.slot, sub.commitment, () => notifySignature(sub, record));
    }
    const programs = byKind.get('program');
    record.accountKeys.forEach((key, index) => {
      if (!isWritable(record, index)) return;
      for (const sub of byAccount.get(key) ?? []) {
        when(record.slot, sub.commitment, () => {
          if (!subscriptions.has(sub.id)) return;
          const account = chain.getAccount(key) ?? zeroAccount;
          notify(sub, 'accountNotification', { context: { slot: record.slot }, value: decimalsAwareEncode(account, sub.config) });
        });
      }
      if (!programs || programs.size === 0) return;
      const account = chain.getAccount(key);
      if (!account) return;
      for (const sub of programs) {
        if (sub.key !== account.owner || !sub.matches!(account)) continue;
        when(record.slot, sub.commitment, () => {
          if (!subscriptions.has(sub.id)) return;
          const now = chain.getAccount(key) ?? zeroAccount;
          notify(sub, 'programNotification', { context: { slot: record.slot }, value: { pubkey: key, account: decimalsAwareEncode(now, sub.config) } });
        });
      }
    });
    for (const sub of byKind.get('logs') ?? []) {
      if (sub.mentions !== undefined && !record.accountKeys.includes(sub.mentions)) continue;
      when(record.slot, sub.commitment, () => {
        if (!subscriptions.has(sub.id)) return;
        notify(sub, 'logsNotification', { context: { slot: record.slot }, value: { signature: record.signature, err: record.err, logs: record.logMessages } });
      });
    }
  });

  const detachSlot = chain.clock.onSlot((slot) => {
    if (pending.length > 0) {
      const due = pending.filter((entry) => reached(chain.commitment, slot, entry.slot, entry.commitment));
      if (due.length > 0) {
        pending = pending.filter((entry) => !due.includes(entry));
        for (const entry of due) entry.fire();
      }
    }
    const root = slotAt(chain.commitment, slot, 'finalized');
    const parent = slot - 1;
    for (const sub of byKind.get('slot') ?? []) notify(sub, 'slotNotification', { parent, root, slot });
    if (root !== lastRoot) {
      lastRoot = root;
      for (const sub of byKind.get('root') ?? []) notify(sub, 'rootNotification', root);
    }
    const updates = byKind.get('slotsUpdates');
    if (updates && updates.size > 0) {
      const timestamp = Date.now();
      const block = chain.history.inSlot(parent);
      const failed = block.filter((record) => record.err !== null).length;
      const events = [
        { type: 'createdBank', slot, parent, timestamp },
        {
          type: 'frozen',
          slot: parent,
          timestamp,
          stats: { numTransactionEntries: block.length, numSuccessfulTransactions: block.length - failed, numFailedTransactions: failed, maxTransactionsPerEntry: block.length },
        },
        { type: 'optimisticConfirmation', slot: slotAt(chain.commitment, slot, 'confirmed'), timestamp },
        { type: 'root', slot: root, timestamp },
      ];
      for (const sub of updates) for (const event of events) notify(sub, 'slotsUpdatesNotification', event);
    }
  });

  const subscribe = (socket: WebSocket, sub: Omit<Subscription, 'id' | 'socket'>): number => {
    const id = nextId++;
    const full: Subscription = { ...sub, id, socket };
    subscriptions.set(id, full);
    socketSubscriptions.get(socket)!.add(id);
    kindSet(full.kind).add(full);
    const index = full.kind === 'signature' ? bySignature : full.kind === 'account' ? byAccount : undefined;
    if (index && full.key !== undefined) {
      let set = index.get(full.key);
      if (!set) index.set(full.key, (set = new Set()));
      set.add(full);
    }
    return id;
  };

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
          return reply(subscribe(socket, { kind: 'account', commitment, config, key }));
        }
        case 'programSubscribe': {
          const key = parsePublicKey(params[0]).toBase58();
          encodeAccountCheck(config);
          const matches = programAccountFilter(config?.filters);
          return reply(subscribe(socket, { kind: 'program', commitment, config, key, matches }));
        }
        case 'logsSubscribe': {
          const filter = params[0];
          let mentions: string | undefined;
          if (filter !== 'all' && filter !== 'allWithVotes') {
            const list = (filter as { mentions?: unknown } | undefined)?.mentions;
            if (!Array.isArray(list) || list.length !== 1) throw new RpcError(-32602, 'Invalid Request: Only 1 address supported');
            mentions = parsePublicKey(list[0]).toBase58();
          }
          return reply(subscribe(socket, { kind: 'logs', commitment, config, mentions, logsWithVotes: filter === 'allWithVotes' }));
        }
        case 'signatureSubscribe': {
          const signature = params[0];
          if (typeof signature !== 'string') throw new RpcError(-32602, 'Invalid param: signature');
          const id = subscribe(socket, {
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
          return reply(subscribe(socket, { kind: 'slot', commitment, config }));
        case 'rootSubscribe':
          return reply(subscribe(socket, { kind: 'root', commitment, config }));
        case 'slotsUpdatesSubscribe':
          return reply(subscribe(socket, { kind: 'slotsUpdates', commitment, config }));
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
          remove(sub.id);
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
        for (const id of [...(socketSubscriptions.get(socket) ?? [])]) remove(id);
        socketSubscriptions.delete(socket);
        unknownCounts.delete(socket);
      });
      socket.on('error', () => socket.terminate());
    });
  }
  return () => {
    detachLanded();
    detachSlot();
    pending = [];
  };
}

/** Fails a subscription at once for an encoding the chain cannot produce, instead of on its first notification. */
function encodeAccountCheck(config: Config): void {
  const encoding = config?.encoding;
  if (encoding !== undefined && !['base58', 'base64', 'jsonParsed'].includes(encoding as string)) {
    throw new RpcError(-32602, `Invalid param: unsupported encoding ${String(encoding)}`);
  }
}
