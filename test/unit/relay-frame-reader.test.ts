// dataFrameReader on a real loopback TCP connection: every read becomes a whole DATA frame that decodes to the bytes
// sent, in order; large reads are handed over without a copy (the read buffer is the frame's), small ones are copied
// out so their buffer is reused.
import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CHANNEL, COPY_BELOW, dataFrameReader, DATA_HEADER, decodeFrame, FRAME, MAX_CHUNK } from '../../src/api/relay-protocol.js';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** Sends `chunks` (with a pause between them) over 127.0.0.1 and collects the frames the reader makes of them. */
async function readFrames(chunks: Buffer[], gapMs: number): Promise<Array<{ frame: Buffer; bytes: number }>> {
  const server = createServer(async (socket) => {
    for (const chunk of chunks) {
      socket.write(chunk);
      await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
    socket.end();
  });
  closers.push(() => server.close());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const frames: Array<{ frame: Buffer; bytes: number }> = [];
  const socket = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, onread: dataFrameReader(7, CHANNEL.stdout, (frame, bytes) => frames.push({ frame, bytes })) });
  closers.push(() => socket.destroy());
  await once(socket, 'end');
  return frames;
}

describe('dataFrameReader', () => {
  it('turns a large transfer into DATA frames that carry every byte in order, most without a copy', async () => {
    const sent = randomBytes(8 * MAX_CHUNK + 12_345);
    const frames = await readFrames([sent], 0);
    const received = Buffer.concat(
      frames.map(({ frame, bytes }) => {
        const decoded = decodeFrame(frame)!;
        expect(decoded).toMatchObject({ type: FRAME.data, stream: 7 });
        expect(decoded.payload[0]).toBe(CHANNEL.stdout);
        expect(frame.length).toBe(DATA_HEADER + bytes);
        expect(bytes).toBeLessThanOrEqual(MAX_CHUNK);
        return decoded.payload.subarray(1);
      }),
    );
    expect(received.equals(sent)).toBe(true);
    // Handed-over frames each own a distinct read buffer (a reused one would have been overwritten by the next read).
    const large = frames.filter(({ bytes }) => bytes >= COPY_BELOW);
    expect(large.length).toBeGreaterThan(0);
    expect(new Set(large.map(({ frame }) => frame.buffer)).size).toBe(large.length);
  });

  it('copies small reads into frames of their own size, so each does not pin a whole read buffer', async () => {
    const chunks = Array.from({ length: 5 }, (_, i) => Buffer.from(`line ${i}\n`));
    const frames = await readFrames(chunks, 20);
    expect(Buffer.concat(frames.map(({ frame }) => decodeFrame(frame)!.payload.subarray(1))).toString()).toBe(chunks.join(''));
    for (const { frame } of frames) expect(frame.buffer.byteLength).toBeLessThan(COPY_BELOW);
  });
});
