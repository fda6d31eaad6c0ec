// Collects new lease-container log lines since a per-lease cursor (docker's own timestamps), in chunks the API accepts.
// Output is bytes (NUL, invalid UTF-8): lines are read one character per byte (latin1) and shipped as base64.
import type { ContainerRuntime } from '../docker/runtime.js';

export interface LogLine {
  /** Docker's RFC 3339 timestamp with fixed 9-digit nanoseconds: string order is time order. */
  ts: string;
  stream: 'stdout' | 'stderr';
  /** The line's bytes, one character per byte (latin1). */
  text: string;
}

export interface LogBatch {
  leaseId: string;
  /** `data` is base64 of the bytes. */
  chunks: Array<{ stream: 'stdout' | 'stderr'; data: string; encoding: 'base64' }>;
  /** The cursor to store once the chunks are accepted. */
  cursor: string;
  /** Output bytes in the batch (its chunks' base64 is 4/3 of that). */
  bytes: number;
}

const TIMESTAMPED = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) ?(.*)$/;
// The API takes at most 64 KiB of base64 per chunk: 45 KiB of output is 60 KiB of base64.
export const MAX_CHUNK_BYTES = 45 * 1024;
/** Output bytes per lease per collection round: a chatty container cannot starve the heartbeat (the server takes 1 MiB bodies). */
export const MAX_BATCH_BYTES = 128 * 1024;
export const MAX_BATCH_CHUNKS = 64;

/** Splits `docker logs --timestamps` output into lines, dropping those at or before `after`. */
export function parseTimestampedLogs(text: string, stream: 'stdout' | 'stderr', after?: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    const match = TIMESTAMPED.exec(raw);
    if (!match) continue;
    const ts = match[1]!;
    if (after !== undefined && ts <= after) continue;
    lines.push({ ts, stream, text: match[2]! });
  }
  return lines;
}

/** Orders lines by time and packs them into chunks (consecutive lines of one stream), up to MAX_BATCH_BYTES; data as base64. */
export function packLogLines(leaseId: string, lines: LogLine[]): LogBatch | undefined {
  const sorted = [...lines].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  const chunks: Array<{ stream: 'stdout' | 'stderr'; data: string }> = [];
  let cursor: string | undefined;
  let bytes = 0;
  for (const line of sorted) {
    const data = `${line.text.slice(0, MAX_CHUNK_BYTES - 1)}\n`;
    if (bytes + data.length > MAX_BATCH_BYTES) break;
    const last = chunks.at(-1);
    if (last && last.stream === line.stream && last.data.length + data.length <= MAX_CHUNK_BYTES) last.data += data;
    else if (chunks.length >= MAX_BATCH_CHUNKS) break;
    else chunks.push({ stream: line.stream, data });
    bytes += data.length;
    cursor = line.ts;
  }
  if (cursor === undefined) return undefined;
  const encoded = chunks.map((c) => ({ stream: c.stream, data: Buffer.from(c.data, 'latin1').toString('base64'), encoding: 'base64' as const }));
  return { leaseId, chunks: encoded, cursor, bytes };
}

/** New log lines of one container since `cursor`. */
export async function collectContainerLogs(
  runtime: ContainerRuntime,
  container: { id: string; leaseId: string },
  cursor: string | undefined,
): Promise<LogBatch | undefined> {
  let stdout = '';
  let stderr = '';
  await runtime.logs(container.id, { timestamps: true, bytes: true, ...(cursor ? { since: cursor } : {}) }, (chunk) => {
    if (chunk.stream === 'stdout') stdout += chunk.text;
    else stderr += chunk.text;
  });
  const lines = [...parseTimestampedLogs(stdout, 'stdout', cursor), ...parseTimestampedLogs(stderr, 'stderr', cursor)];
  return packLogLines(container.leaseId, lines);
}
