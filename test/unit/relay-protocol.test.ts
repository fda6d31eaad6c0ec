// The relay's pure parts: agent-link frames, renter channel messages, Docker's exec demultiplexing, and the renter
// commands' argument parsing (port pairs, cp endpoints).
import { describe, expect, it } from 'vitest';
import { parsePortPairs } from '../../src/renter/parse.js';
import { CHANNEL, channelMessage, decodeFrame, encodeCredit, encodeData, encodeJson, FRAME, RELAY_PATHS, relayEndpoint } from '../../src/api/relay-protocol.js';
import { createDemuxer } from '../../src/docker/engine-api.js';
import { parseCpEndpoints } from '../../src/renter/lease-copy.js';

describe('agent-link frames', () => {
  it('round-trips data, credit and JSON frames', () => {
    const data = decodeFrame(encodeData(0xfffffffe, CHANNEL.stderr, Buffer.from([0, 255, 10])))!;
    expect(data).toMatchObject({ type: FRAME.data, stream: 0xfffffffe });
    expect([...data.payload]).toEqual([CHANNEL.stderr, 0, 255, 10]);

    const credit = decodeFrame(encodeCredit(7, 4 * 1024 * 1024))!;
    expect(credit).toMatchObject({ type: FRAME.credit, stream: 7 });
    expect(credit.payload.readUInt32BE(0)).toBe(4 * 1024 * 1024);

    const open = decodeFrame(encodeJson(FRAME.open, 1, { kind: 'port', leaseId: 'l', port: 22 }))!;
    expect(JSON.parse(open.payload.toString())).toEqual({ kind: 'port', leaseId: 'l', port: 22 });
  });

  it.each([
    ['too short', Buffer.from([FRAME.data, 0, 0])],
    ['unknown type 0', Buffer.from([0, 0, 0, 0, 1])],
    ['unknown type 99', Buffer.from([99, 0, 0, 0, 1])],
  ])('rejects %s', (_name, bytes) => {
    expect(decodeFrame(bytes)).toBeUndefined();
  });

  it('puts the channel first in renter messages', () => {
    expect([...channelMessage(CHANNEL.resize, '{}')]).toEqual([4, 123, 125]);
  });

  it('signs the exec options: they travel in the query', () => {
    expect(RELAY_PATHS.exec('lease_1', { command: ['sh', '-c', 'echo a&b'], tty: true, stdin: true, node: 'n 1', cols: 80, rows: 24 })).toBe(
      '/v1/leases/lease_1/exec?cmd=sh&cmd=-c&cmd=echo+a%26b&tty=1&stdin=1&node=n+1&cols=80&rows=24',
    );
    expect(RELAY_PATHS.port('lease_1', 8888)).toBe('/v1/leases/lease_1/port/8888');
  });
});

describe('relay endpoints', () => {
  it.each([
    ['http://127.0.0.1:8787', 'ws://127.0.0.1:8787/v1/nodes/n/relay', '/v1/nodes/n/relay'],
    ['https://coord.example/', 'wss://coord.example/v1/nodes/n/relay', '/v1/nodes/n/relay'],
    ['https://coord.example/api//', 'wss://coord.example/api/v1/nodes/n/relay', '/api/v1/nodes/n/relay'],
  ])('%s → %s (signs %s)', (apiUrl, url, signedPath) => {
    expect(relayEndpoint(apiUrl, RELAY_PATHS.agent('n'))).toEqual({ url, signedPath });
  });
});

describe("Docker's exec stream demultiplexer", () => {
  const frame = (stream: number, text: string) => {
    const payload = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  };

  it('splits frames however the bytes arrive', () => {
    const all = Buffer.concat([frame(1, 'out'), frame(2, 'err'), frame(1, ''), frame(1, 'more')]);
    for (const cut of [1, 3, 8, 10, all.length - 1]) {
      const seen: Array<[number, string]> = [];
      const push = createDemuxer((stream, payload) => seen.push([stream, payload.toString()]));
      push(all.subarray(0, cut));
      push(all.subarray(cut));
      expect(seen).toEqual([[1, 'out'], [2, 'err'], [1, 'more']]);
    }
  });
});

describe('lease port-forward pairs', () => {
  it.each([
    [['8888:8888'], [{ local: 8888, remote: 8888 }]],
    [['6006'], [{ local: 6006, remote: 6006 }]],
    [['0:80', '9000:9001'], [{ local: 0, remote: 80 }, { local: 9000, remote: 9001 }]],
  ])('%j', (specs, expected) => {
    expect(parsePortPairs(specs)).toEqual(expected);
  });

  it.each([[[]], [['8888:0']], [['70000:80']], [['a:80']], [['80:']], [['1:2:3']]])('refuses %j', (specs) => {
    expect(() => parsePortPairs(specs)).toThrow(/port/i);
  });
});

describe('lease cp endpoints', () => {
  it.each([
    ['./data', 'lease_1:/workspace', { direction: 'upload', leaseId: 'lease_1', localPath: './data', remotePath: '/workspace' }],
    ['lease_1:/out/model.pt', 'results', { direction: 'download', leaseId: 'lease_1', localPath: 'results', remotePath: '/out/model.pt' }],
  ])('%s → %s', (src, dst, expected) => {
    expect(parseCpEndpoints(src, dst)).toEqual(expected);
  });

  it.each([
    ['a', 'b'],
    ['lease_1:/a', 'lease_2:/b'],
    ['./data', 'lease_1:relative'],
  ])('refuses %s → %s', (src, dst) => {
    expect(() => parseCpEndpoints(src, dst)).toThrow(/ID:\/path/);
  });
});
