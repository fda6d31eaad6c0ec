// The agent's own log file in its data directory: one line per event, read back by `iocli provide logs`.
import { createReadStream } from 'node:fs';
import { appendFile, open, rename, stat } from 'node:fs/promises';

export interface AgentLogWriter {
  write(level: 'info' | 'warn' | 'error', message: string): void;
  /** Resolves once every write so far is on disk. */
  flush(): Promise<void>;
}

/** Past this size the log moves to `<path>.1` (one old file kept): an agent runs for months. */
export const MAX_LOG_BYTES = 10 * 1024 * 1024;

/** Appends `ISO-time LEVEL message` lines; writes are chained so lines never interleave and a failing disk never stops the agent. */
export function createAgentLogWriter(path: string, onError?: (error: Error) => void, maxBytes = MAX_LOG_BYTES): AgentLogWriter {
  let chain: Promise<void> = Promise.resolve();
  let writes = 0;
  return {
    write(level, message) {
      const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message.replace(/\n/g, ' ')}\n`;
      const check = writes++ % 100 === 0;
      chain = chain
        .then(async () => {
          if (check && (await stat(path).then((s) => s.size, () => 0)) > maxBytes) await rename(path, `${path}.1`);
          await appendFile(path, line, { mode: 0o600 });
        })
        .catch((error: Error) => onError?.(error));
    },
    flush: () => chain,
  };
}

/** The last `lines` lines of a file (the whole file when it is small). */
export async function tailFile(path: string, lines: number): Promise<{ text: string; size: number }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const window = Math.min(size, Math.max(64 * 1024, lines * 400));
    const buffer = Buffer.alloc(window);
    await handle.read(buffer, 0, window, size - window);
    let text = buffer.toString('utf8');
    const all = text.split('\n');
    if (window < size) all.shift();
    if (all.at(-1) === '') all.pop();
    text = all.slice(-lines).join('\n');
    return { text: text ? `${text}\n` : '', size };
  } finally {
    await handle.close();
  }
}

/** Calls `onText` with what is appended to `path` after `from`, until `signal` aborts (poll every `intervalMs`). */
export async function followFile(path: string, from: number, onText: (text: string) => void, signal: AbortSignal, intervalMs = 500): Promise<void> {
  let position = from;
  while (!signal.aborted) {
    const size = await stat(path).then((s) => s.size, () => position);
    if (size < position) position = 0; // rotated or truncated
    if (size > position) {
      await new Promise<void>((resolve, reject) => {
        const stream = createReadStream(path, { start: position, end: size - 1, encoding: 'utf8' });
        stream.on('data', (chunk) => onText(String(chunk)));
        stream.on('end', resolve);
        stream.on('error', reject);
      });
      position = size;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
    });
  }
}
