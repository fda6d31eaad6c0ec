// Log shipping: docker's timestamped lines → ordered chunks after a cursor, never twice.
import { describe, expect, it } from 'vitest';
import { MAX_BATCH_BYTES, packLogLines, parseTimestampedLogs } from '../../src/provider/log-shipper.js';

const OUT = [
  '2025-01-01T00:00:01.000000001Z hello',
  '2025-01-01T00:00:03.000000000Z world',
  '',
].join('\n');
const ERR = '2025-01-01T00:00:02.500000000Z oops\n';

const decoded = (chunk: { stream: string; data: string; encoding: string }) => {
  expect(chunk.encoding).toBe('base64');
  return { stream: chunk.stream, data: Buffer.from(chunk.data, 'base64').toString('latin1') };
};

describe('log shipping', () => {
  it('ships the exact bytes: NUL, escapes and invalid UTF-8 survive as base64', () => {
    const output = Buffer.concat([Buffer.from('2025-01-01T00:00:01.000000000Z a'), Buffer.from([0, 0x1b, 0xff, 0xc3]), Buffer.from('\n')]);
    const batch = packLogLines('L1', parseTimestampedLogs(output.toString('latin1'), 'stdout'))!;
    expect(Buffer.from(batch.chunks[0]!.data, 'base64')).toEqual(Buffer.from([0x61, 0, 0x1b, 0xff, 0xc3, 0x0a]));
    expect(batch.bytes).toBe(6);
  });

  it('parses, orders and packs lines by stream', () => {
    const lines = [...parseTimestampedLogs(OUT, 'stdout'), ...parseTimestampedLogs(ERR, 'stderr')];
    const batch = packLogLines('L1', lines)!;
    expect(batch.chunks.map(decoded)).toEqual([
      { stream: 'stdout', data: 'hello\n' },
      { stream: 'stderr', data: 'oops\n' },
      { stream: 'stdout', data: 'world\n' },
    ]);
    expect(batch.cursor).toBe('2025-01-01T00:00:03.000000000Z');
  });

  it('drops lines at or before the cursor', () => {
    expect(parseTimestampedLogs(OUT, 'stdout', '2025-01-01T00:00:01.000000001Z').map((l) => l.text)).toEqual(['world']);
    expect(packLogLines('L1', parseTimestampedLogs(OUT, 'stdout', '2025-01-01T00:00:03.000000000Z'))).toBeUndefined();
  });

  it('keeps an empty line and text with spaces', () => {
    const lines = parseTimestampedLogs('2025-01-01T00:00:01.000000000Z \n2025-01-01T00:00:02.000000000Z a  b\n', 'stdout');
    expect(lines.map((l) => l.text)).toEqual(['', 'a  b']);
  });

  it('caps a batch and moves the cursor only as far as it shipped', () => {
    const big = 'x'.repeat(10_000);
    const lines = Array.from({ length: 50 }, (_, i) => ({ ts: `2025-01-01T00:00:${String(i).padStart(2, '0')}.000000000Z`, stream: 'stdout' as const, text: big }));
    const batch = packLogLines('L1', lines)!;
    expect(batch.bytes).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    const shipped = batch.chunks.reduce((n, c) => n + decoded(c).data.split('\n').length - 1, 0);
    expect(batch.cursor).toBe(lines[shipped - 1]!.ts);
    for (const chunk of batch.chunks) expect(chunk.data.length).toBeLessThanOrEqual(65_536);
  });
});

describe('agent log file', () => {
  it('appends lines, tails them, and rotates past the size limit', async () => {
    const { mkdtemp, readFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createAgentLogWriter, tailFile } = await import('../../src/provider/agent-log.js');
    const dir = await mkdtemp(join(tmpdir(), 'iocli-agent-log-'));
    try {
      const path = join(dir, 'agent.log');
      const log = createAgentLogWriter(path, undefined, 2000);
      for (let i = 0; i < 150; i++) log.write(i % 2 ? 'info' : 'warn', `line ${i}\nsecond part`);
      await log.flush();
      const tail = await tailFile(path, 2);
      expect(tail.text).toMatch(/INFO  line 149 second part\n$/);
      expect(tail.text.split('\n')).toHaveLength(3);
      expect((await readFile(`${path}.1`, 'utf8')).length).toBeGreaterThan(2000);
      expect((await readFile(path, 'utf8')).split('\n').length).toBeLessThan(150);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
