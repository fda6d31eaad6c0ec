// What the local chain tells its WebSocket subscribers: on each landed transaction (signature, account, program and
// logs notifications) and on each slot (slot, root and slotsUpdates), each sent once the transaction's slot reaches
// the subscriber's commitment ('realistic' mode holds them back until then).
import type { ChainState } from './chain-state.js';
import { reached, slotAt } from './commitment.js';
import type { Commitment } from './commitment.js';
import type { TransactionRecord } from './history.js';
import { SYSTEM_PROGRAM } from './json-parsed.js';
import { encodeAccount, isWritable } from './rpc-encoding.js';
import type { Config } from './rpc-encoding.js';
import type { AccountView } from './svm-views.js';
import { notify, type Subscription, type SubscriptionRegistry } from './ws-subscription-registry.js';

export interface ChainNotifier {
  /** Runs `fire` once `slot` reaches `commitment`: now, or on a later slot. */
  when(slot: number, commitment: Commitment, fire: () => void): void;
  /** Sends a signature subscription its one notification and ends it (unless it already ended). */
  notifySignature(sub: Subscription, record: TransactionRecord): void;
  /** Stops listening to the chain and drops the notifications still waiting. */
  detach(): void;
}

export function notifyChainEvents(chain: ChainState, subscriptions: SubscriptionRegistry): ChainNotifier {
  /** Notifications waiting for their transaction's slot to reach the subscriber's commitment ('realistic' mode). */
  let pending: { slot: number; commitment: Commitment; fire: () => void }[] = [];
  let lastRoot = slotAt(chain.commitment, chain.clock.slot, 'finalized');
  const decimalsOf = (mint: string) => chain.mintDecimals(mint);
  const decimalsAwareEncode = (account: AccountView | null, config: Config) => encodeAccount(account, config, decimalsOf);

  const when = (slot: number, commitment: Commitment, fire: () => void) => {
    if (reached(chain.commitment, chain.clock.slot, slot, commitment)) fire();
    else pending.push({ slot, commitment, fire });
  };

  const notifySignature = (sub: Subscription, record: TransactionRecord) => {
    // A signature subscription ends with its notification (the RPC disposes of it, and clients know that).
    if (!subscriptions.has(sub.id)) return;
    subscriptions.remove(sub.id);
    notify(sub, 'signatureNotification', { context: { slot: record.slot }, value: { err: record.err } });
  };

  const zeroAccount = { lamports: 0n, data: new Uint8Array(), owner: SYSTEM_PROGRAM, executable: false, rentEpoch: 0n };

  const detachLanded = chain.onLanded((record) => {
    for (const sub of subscriptions.forSignature(record.signature) ?? []) {
      if (sub.receivedNotification) notify(sub, 'signatureNotification', { context: { slot: record.slot }, value: 'receivedSignature' });
      when(record.slot, sub.commitment, () => notifySignature(sub, record));
    }
    const programs = subscriptions.ofKind('program');
    record.accountKeys.forEach((key, index) => {
      if (!isWritable(record, index)) return;
      for (const sub of subscriptions.forAccount(key) ?? []) {
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
    for (const sub of subscriptions.ofKind('logs') ?? []) {
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
    for (const sub of subscriptions.ofKind('slot') ?? []) notify(sub, 'slotNotification', { parent, root, slot });
    if (root !== lastRoot) {
      lastRoot = root;
      for (const sub of subscriptions.ofKind('root') ?? []) notify(sub, 'rootNotification', root);
    }
    const updates = subscriptions.ofKind('slotsUpdates');
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

  return {
    when,
    notifySignature,
    detach: () => {
      detachLanded();
      detachSlot();
      pending = [];
    },
  };
}
