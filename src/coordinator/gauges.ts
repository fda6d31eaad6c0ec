// Point-in-time counts of nodes, GPUs and leases for the metrics endpoint.
import type { Db } from './db.js';

export interface Gauges {
  nodesOnline: number;
  nodesOffline: number;
  gpusFree: number;
  gpusLeased: number;
  leases: Record<string, number>;
  /** GPUs live quotes hold (quotes.ts). */
  gpusHeld?: number;
  /** Payments by state (pending: being confirmed; confirmed: landed, not yet a lease; used; refunded). */
  payments?: Record<string, number>;
  /** Seconds since the oldest payment still pending or confirmed-but-unused was recorded (0: none). */
  oldestOpenPaymentSeconds?: number;
  /** The payout outbox: claims and refunds by kind and state, and the age of the oldest unfinished one per kind. */
  payouts?: Array<{ kind: string; state: string; count: number }>;
  oldestOpenPayoutSeconds?: Record<string, number>;
  /** Seconds since the least recent heartbeat of an online node (0: none online). */
  maxHeartbeatAgeSeconds?: number;
}

export async function readGauges(db: Db, now = Date.now()): Promise<Gauges> {
  const nodes = await db.selectFrom('nodes').select(['status', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>('free_gpus').as('free'), (eb) => eb.fn.sum<number>('total_gpus').as('total')]).groupBy('status').execute();
  const online = nodes.find((n) => n.status === 'online');
  const leased = await db.selectFrom('gpus').select((eb) => eb.fn.countAll<number>().as('n')).where('lease_id', 'is not', null).executeTakeFirst();
  const leases = await db.selectFrom('leases').select(['state', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('state').execute();
  const held = await db.selectFrom('gpus').select((eb) => eb.fn.countAll<number>().as('n')).where('lease_id', 'is', null).where('held_until', '>', now).executeTakeFirst();
  const payments = await db.selectFrom('payments').select(['state', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('state').execute();
  const oldestPayment = await db.selectFrom('payments').select((eb) => eb.fn.min<number>('created_at').as('at')).where('state', 'in', ['pending', 'confirmed']).executeTakeFirst();
  const payouts = await db.selectFrom('claims').select(['kind', 'state', (eb) => eb.fn.countAll<number>().as('n')]).groupBy(['kind', 'state']).execute();
  const oldestPayouts = await db.selectFrom('claims').select(['kind', (eb) => eb.fn.min<number>('created_at').as('at')]).where('state', 'in', ['pending', 'sent']).groupBy('kind').execute();
  const oldestBeat = await db.selectFrom('nodes').select((eb) => eb.fn.min<number>('last_heartbeat_at').as('at')).where('status', '=', 'online').executeTakeFirst();
  const age = (at: unknown) => (at == null ? 0 : Math.max(0, (now - Number(at)) / 1000));
  return {
    gpusHeld: Number(held?.n ?? 0),
    payments: Object.fromEntries(payments.map((p) => [p.state, Number(p.n)])),
    oldestOpenPaymentSeconds: age(oldestPayment?.at),
    payouts: payouts.map((p) => ({ kind: p.kind, state: p.state, count: Number(p.n) })),
    oldestOpenPayoutSeconds: Object.fromEntries(oldestPayouts.map((p) => [p.kind, age(p.at)])),
    maxHeartbeatAgeSeconds: age(oldestBeat?.at),
    nodesOnline: Number(online?.n ?? 0),
    nodesOffline: Number(nodes.find((n) => n.status === 'offline')?.n ?? 0),
    gpusFree: Number(online?.free ?? 0),
    gpusLeased: Number(leased?.n ?? 0),
    leases: Object.fromEntries(leases.map((l) => [l.state, Number(l.n)])),
  };
}
