// Point-in-time counts of nodes, GPUs and leases for the metrics endpoint.
import type { Db } from './db.js';

export interface Gauges {
  nodesOnline: number;
  nodesOffline: number;
  gpusFree: number;
  gpusLeased: number;
  leases: Record<string, number>;
}

export async function readGauges(db: Db): Promise<Gauges> {
  const nodes = await db.selectFrom('nodes').select(['status', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>('free_gpus').as('free'), (eb) => eb.fn.sum<number>('total_gpus').as('total')]).groupBy('status').execute();
  const online = nodes.find((n) => n.status === 'online');
  const leased = await db.selectFrom('gpus').select((eb) => eb.fn.countAll<number>().as('n')).where('lease_id', 'is not', null).executeTakeFirst();
  const leases = await db.selectFrom('leases').select(['state', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('state').execute();
  return {
    nodesOnline: Number(online?.n ?? 0),
    nodesOffline: Number(nodes.find((n) => n.status === 'offline')?.n ?? 0),
    gpusFree: Number(online?.free ?? 0),
    gpusLeased: Number(leased?.n ?? 0),
    leases: Object.fromEntries(leases.map((l) => [l.state, Number(l.n)])),
  };
}
