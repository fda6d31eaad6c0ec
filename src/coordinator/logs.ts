// Lease logs: chunks the node uploads (or sends with heartbeats), read back by the renter. Output is stored as the
// bytes the container wrote, so NUL bytes and invalid UTF-8 neither break PostgreSQL nor get lost.
import type { LogsResponse } from '../api/schemas/leases.js';
import { iso, type CoordinatorContext } from './context.js';
import { forbidden } from './http-error.js';
import { leaseRow } from './lease-views.js';
import { nodeFor } from './nodes.js';

export type LogChunk = { stream: 'stdout' | 'stderr'; data: string; encoding?: 'utf8' | 'base64' };

/** The bytes a chunk carries: base64 decoded, or text as UTF-8. */
export function chunkBytes(chunk: LogChunk): Buffer {
  return chunk.encoding === 'base64' ? Buffer.from(chunk.data, 'base64') : Buffer.from(chunk.data, 'utf8');
}

export async function appendLogs(ctx: CoordinatorContext, leaseId: string, chunks: LogChunk[], now = ctx.options.now()): Promise<void> {
  await ctx.db
    .insertInto('lease_logs')
    .values(chunks.map((c) => ({ lease_id: leaseId, stream: c.stream, data: '', bytes: chunkBytes(c), created_at: now })))
    .execute();
}

export async function uploadLogs(ctx: CoordinatorContext, nodeId: string, actor: string, leaseId: string, chunks: LogChunk[]): Promise<void> {
  await nodeFor(ctx, nodeId, actor);
  const allocated = await ctx.db.selectFrom('lease_allocations').select('lease_id').where('lease_id', '=', leaseId).where('node_id', '=', nodeId).executeTakeFirst();
  if (!allocated) throw forbidden(`Lease ${leaseId} does not run on node ${nodeId}.`);
  await appendLogs(ctx, leaseId, chunks);
}

export async function leaseLogs(
  ctx: CoordinatorContext,
  renter: string,
  leaseId: string,
  query: { tail?: number; since?: number; encoding?: 'utf8' | 'base64' },
): Promise<LogsResponse> {
  await leaseRow(ctx, renter, leaseId);
  let q = ctx.db.selectFrom('lease_logs').select(['id', 'stream', 'data', 'bytes', 'created_at']).where('lease_id', '=', leaseId);
  if (query.since !== undefined) q = q.where('id', '>', query.since);
  const rows = query.tail ? (await q.orderBy('id', 'desc').limit(query.tail).execute()).reverse() : await q.orderBy('id').limit(10_000).execute();
  const encoding = query.encoding ?? 'utf8';
  const entries = rows.map((r) => {
    const bytes = r.bytes ? Buffer.from(r.bytes) : Buffer.from(r.data, 'utf8');
    return {
      cursor: Number(r.id),
      stream: r.stream === 'stderr' ? ('stderr' as const) : ('stdout' as const),
      data: bytes.toString(encoding),
      encoding,
      at: iso(Number(r.created_at))!,
    };
  });
  return { entries, cursor: entries.length > 0 ? entries[entries.length - 1]!.cursor : (query.since ?? 0) };
}
