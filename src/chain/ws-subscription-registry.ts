// The local chain's open WebSocket subscriptions, indexed the ways notifications look them up (by id, kind,
// signature, account and socket), and how a subscriber is sent a JSON-RPC notification.
import type { WebSocket } from 'ws';
import type { Commitment } from './commitment.js';
import type { Config } from './rpc-encoding.js';
import type { AccountView } from './svm-views.js';

export type SubscriptionKind = 'account' | 'program' | 'logs' | 'signature' | 'slot' | 'root' | 'slotsUpdates';

export interface Subscription {
  id: number;
  socket: WebSocket;
  kind: SubscriptionKind;
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

export class SubscriptionRegistry {
  private nextId = 0;
  private readonly byId = new Map<number, Subscription>();
  private readonly byKind = new Map<SubscriptionKind, Set<Subscription>>();
  private readonly bySignature = new Map<string, Set<Subscription>>();
  private readonly byAccount = new Map<string, Set<Subscription>>();
  private readonly bySocket = new Map<WebSocket, Set<number>>();

  openSocket(socket: WebSocket): void {
    this.bySocket.set(socket, new Set());
  }

  /** Ends every subscription of a closed socket. */
  closeSocket(socket: WebSocket): void {
    for (const id of [...(this.bySocket.get(socket) ?? [])]) this.remove(id);
    this.bySocket.delete(socket);
  }

  /** Registers a subscription of an open socket; returns its id. */
  add(socket: WebSocket, sub: Omit<Subscription, 'id' | 'socket'>): number {
    const id = this.nextId++;
    const full: Subscription = { ...sub, id, socket };
    this.byId.set(id, full);
    this.bySocket.get(socket)!.add(id);
    let ofKind = this.byKind.get(full.kind);
    if (!ofKind) this.byKind.set(full.kind, (ofKind = new Set()));
    ofKind.add(full);
    const index = this.keyIndex(full.kind);
    if (index && full.key !== undefined) {
      let set = index.get(full.key);
      if (!set) index.set(full.key, (set = new Set()));
      set.add(full);
    }
    return id;
  }

  remove(id: number): boolean {
    const sub = this.byId.get(id);
    if (!sub) return false;
    this.byId.delete(id);
    this.bySocket.get(sub.socket)?.delete(id);
    this.byKind.get(sub.kind)?.delete(sub);
    const index = this.keyIndex(sub.kind);
    if (index && sub.key !== undefined) {
      const set = index.get(sub.key);
      set?.delete(sub);
      if (set?.size === 0) index.delete(sub.key);
    }
    return true;
  }

  get(id: number): Subscription | undefined {
    return this.byId.get(id);
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  ofKind(kind: SubscriptionKind): Set<Subscription> | undefined {
    return this.byKind.get(kind);
  }

  forSignature(signature: string): Set<Subscription> | undefined {
    return this.bySignature.get(signature);
  }

  forAccount(address: string): Set<Subscription> | undefined {
    return this.byAccount.get(address);
  }

  private keyIndex(kind: SubscriptionKind): Map<string, Set<Subscription>> | undefined {
    return kind === 'signature' ? this.bySignature : kind === 'account' ? this.byAccount : undefined;
  }
}

export function send(socket: WebSocket, payload: unknown): void {
  if (socket.readyState === 1) socket.send(JSON.stringify(payload));
}

export function notify(sub: Subscription, method: string, result: unknown): void {
  send(sub.socket, { jsonrpc: '2.0', method, params: { result, subscription: sub.id } });
}
