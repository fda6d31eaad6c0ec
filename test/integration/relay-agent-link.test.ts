// The agent's relay link against a stand-in coordinator speaking the link protocol over a real WebSocket, with real
// Docker: a lease container on its own bridge network (how leases with ports run once they get their own network) is
// reached at its own address; a container labelled for another node or lease is never reached.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { CHANNEL, decodeFrame, encodeData, encodeFrame, encodeJson, FRAME, parseJson, type StreamStatus } from '../../src/api/relay-protocol.js';
import { verifySignedRequest } from '../../src/api/signing.js';
import { startRelayLink, type RelayLink } from '../../src/provider/relay-link.js';
import { docker, dockerOk, ensureDocker, ensureTestImage } from '../support/docker.js';
import { newKeypair } from '../support/coordinator.js';
import { waitFor } from '../support/wait.js';

const hasDocker = await ensureDocker();
const RUN = `${process.pid}-${randomBytes(3).toString('hex')}`;
const NODE = `node_linktest_${RUN}`;
const NETWORK = `iocli-relaytest-${RUN}`;

describe.skipIf(!hasDocker)('agent relay link (stand-in coordinator, real Docker)', () => {
  let server: WebSocketServer;
  let link: RelayLink;
  let agentSocket: WebSocket | undefined;
  let authorized = false;
  const controller = new AbortController();
  const owner = newKeypair();
  const frames: Array<{ type: number; stream: number; payload: Buffer }> = [];

  beforeAll(async () => {
    const image = await ensureTestImage();
    await dockerOk(['network', 'create', '--label', `i9relay.test=${RUN}`, NETWORK]);
    const labels = (node: string, lease: string) => ['--label', 'iocli.managed=true', '--label', `iocli.node=${node}`, '--label', `iocli.lease=${lease}`, '--label', `i9relay.test=${RUN}`];
    const web = 'mkdir -p /tmp/w && echo "on its own network" > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w';
    await dockerOk(['run', '-d', '--network', NETWORK, ...labels(NODE, 'lease_mine'), image, 'sh', '-c', web]);
    await dockerOk(['run', '-d', '--network', NETWORK, ...labels(`node_other_${RUN}`, 'lease_theirs'), image, 'sh', '-c', web]);

    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    server.on('connection', (ws, request) => {
      // The link opens with the owner's signature over GET + path, like every signed request.
      const check = verifySignedRequest('GET', request.url ?? '', request.headers, '');
      authorized = check.ok && check.publicKey === owner.publicKey && request.url === `/v1/nodes/${NODE}/relay`;
      agentSocket = ws;
      ws.on('message', (message: Buffer) => frames.push(decodeFrame(message)!));
    });
    await new Promise((resolve) => server.once('listening', resolve));
    link = startRelayLink({ apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, nodeId: NODE, keypair: owner, signal: controller.signal });
    await link.connected();
  }, 60_000);

  afterAll(async () => {
    controller.abort();
    await link?.close();
    await new Promise((resolve) => server?.close(resolve));
    const ids = (await docker(['ps', '-aq', '--filter', `label=i9relay.test=${RUN}`])).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await docker(['rm', '-f', ...ids]);
    await docker(['network', 'rm', NETWORK]);
  });

  const closeOf = (stream: number) => waitFor(`stream ${stream} to close`, () => {
    const frame = frames.find((f) => f.stream === stream && f.type === FRAME.close);
    return frame && (parseJson<StreamStatus>(frame.payload) ?? {});
  }, { timeoutMs: 20_000 });

  it('signs its link as the node owner', () => {
    expect(authorized).toBe(true);
  });

  it("reaches a port of the lease's container at its address on its own network", async () => {
    agentSocket!.send(encodeJson(FRAME.open, 1, { kind: 'port', leaseId: 'lease_mine', port: 8080 }));
    agentSocket!.send(encodeData(1, CHANNEL.stdin, Buffer.from('GET /index.html HTTP/1.0\r\n\r\n')));
    agentSocket!.send(encodeFrame(FRAME.end, 1, Buffer.from([CHANNEL.stdin])));
    expect(await closeOf(1)).toEqual({});
    const body = Buffer.concat(frames.filter((f) => f.stream === 1 && f.type === FRAME.data).map((f) => f.payload.subarray(1))).toString();
    expect(body).toMatch(/^HTTP\/1\.[01] 200/);
    expect(body).toContain('on its own network');
    // Every byte it sent was acknowledged by the agent (credit), so its window is whole again.
    expect(frames.some((f) => f.stream === 1 && f.type === FRAME.credit)).toBe(true);
  });

  it('execs in the lease container and reports the exit code', async () => {
    agentSocket!.send(encodeJson(FRAME.open, 2, { kind: 'exec', leaseId: 'lease_mine', command: ['sh', '-c', 'echo hi; exit 4'], tty: false, stdin: false }));
    expect(await closeOf(2)).toEqual({ exitCode: 4 });
    const out = frames.filter((f) => f.stream === 2 && f.type === FRAME.data);
    expect(out.map((f) => [f.payload[0], f.payload.subarray(1).toString()])).toEqual([[CHANNEL.stdout, 'hi\n']]);
  });

  it('never opens a stream into a container of another node, or of a lease it does not run', async () => {
    agentSocket!.send(encodeJson(FRAME.open, 3, { kind: 'exec', leaseId: 'lease_theirs', command: ['id'], tty: false, stdin: false }));
    agentSocket!.send(encodeJson(FRAME.open, 4, { kind: 'port', leaseId: 'lease_nobody', port: 8080 }));
    expect(await closeOf(3)).toMatchObject({ code: 'LEASE_NOT_RUNNING_HERE' });
    expect(await closeOf(4)).toMatchObject({ code: 'LEASE_NOT_RUNNING_HERE' });
    expect(frames.filter((f) => (f.stream === 3 || f.stream === 4) && f.type === FRAME.data)).toEqual([]);
  });
});
