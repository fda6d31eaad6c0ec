// What a renter's stream asks the agent to open, from its route: a port of the lease's container, or a command (the
// exec query: cmd=… once per argument, tty, stdin, cols, rows), and on which of the lease's nodes.
import type { Kysely } from 'kysely';
import type { OpenRequest } from '../api/relay-protocol.js';
import { HttpError } from './http-error.js';

/** Lease states in which a renter may open streams (the agent still refuses when no container runs). */
export const STREAMABLE_STATES = new Set(['scheduled', 'running']);

/** A renter's stream as its route names it: the lease, and the port or the exec query in the URL. */
export type StreamTarget = { kind: 'exec'; leaseId: string; url: string } | { kind: 'port'; leaseId: string; port: string; url: string };

const badRequest = (message: string) => new HttpError(400, 'BAD_REQUEST', message);

export function parseOpen(target: StreamTarget): OpenRequest {
  if (target.kind === 'port') {
    const port = /^\d{1,5}$/.test(target.port) ? Number(target.port) : 0;
    if (port < 1 || port > 65535) throw badRequest('The port must be 1-65535.');
    return { kind: 'port', leaseId: target.leaseId, port };
  }
  const query = new URLSearchParams(target.url.split('?')[1] ?? '');
  const command = query.getAll('cmd');
  if (command.length === 0 || command.length > 1000 || command.some((arg) => arg.length > 100_000)) throw badRequest('Give the command to run (cmd=…), at most 1000 arguments.');
  const size = (name: string) => {
    const value = query.get(name);
    if (value === null) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw badRequest(`${name} must be a positive integer.`);
    return n;
  };
  return { kind: 'exec', leaseId: target.leaseId, command, tty: query.get('tty') === '1', stdin: query.get('stdin') === '1', cols: size('cols'), rows: size('rows') };
}


/** The node of the renter's active lease that the stream goes to (?node= picks one of a multi-node lease's). */
export async function leaseNodeFor(db: Kysely<any>, renter: string, target: StreamTarget): Promise<string> {
  const { leaseId } = target;
  const lease = await db.selectFrom('leases').select(['renter', 'state']).where('id', '=', leaseId).executeTakeFirst();
  // Someone else's lease reads as missing: lease ids are not disclosed to other wallets.
  if (!lease || lease.renter !== renter) throw new HttpError(404, 'LEASE_NOT_FOUND', `No lease ${leaseId} for this wallet.`);
  if (!STREAMABLE_STATES.has(lease.state)) throw new HttpError(409, 'LEASE_NOT_ACTIVE', `Lease ${leaseId} is ${lease.state}; streams need a running lease.`);
  const nodes = (await db.selectFrom('lease_allocations').select('node_id').where('lease_id', '=', leaseId).where('active', '=', 1).execute()).map((r) => r.node_id as string);
  const unique = [...new Set(nodes)].sort();
  const wanted = new URLSearchParams(target.url.split('?')[1] ?? '').get('node');
  if (wanted && !unique.includes(wanted)) throw new HttpError(404, 'NODE_NOT_IN_LEASE', `Node ${wanted} is not one of lease ${leaseId}'s nodes (${unique.join(', ')}).`);
  const nodeId = wanted ?? unique[0];
  if (!nodeId) throw new HttpError(409, 'LEASE_NOT_ACTIVE', `Lease ${leaseId} has no node yet.`);
  return nodeId;
}

/** Of these leases, those that ended, with their state: their streams are closed. */
export async function endedLeases(db: Kysely<any>, leaseIds: string[]): Promise<Map<string, string>> {
  const rows = await db.selectFrom('leases').select(['id', 'state']).where('id', 'in', leaseIds).execute();
  return new Map(rows.filter((r) => !STREAMABLE_STATES.has(r.state as string)).map((r) => [r.id as string, r.state as string]));
}
