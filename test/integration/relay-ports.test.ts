// `iocli lease port-forward` and `lease connect` through the relay: an HTTP server in the lease's container answers 50
// concurrent requests through port-forward; OpenSSH's ssh uses `lease connect` as its ProxyCommand; ports the lease did
// not declare (the rig's own loopback services) are refused; port-forward ends when the lease does.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { ensureDocker, ensureTestImage } from '../support/docker.js';
import { freePort } from '../support/ports.js';
import { iocli, startRelayBench, type RelayBench } from '../support/relay.js';
import { waitFor } from '../support/wait.js';

const hasDocker = await ensureDocker();
const hasSsh = spawnSync('ssh', ['-V']).status === 0;

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // agent: false → a new TCP connection (so a new relay stream) per request.
    const req = get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(20_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Starts a long-running iocli and resolves with its first stdout line (parsed as JSON). */
function startForward(args: string[], env: Record<string, string>): { child: ChildProcess; first: Promise<any>; exit: Promise<{ code: number; stderr: string; stdout: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', CI: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const first = new Promise((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n')) resolve(JSON.parse(line!));
    });
    child.once('exit', () => reject(new Error(`port-forward exited early: ${stderr}`)));
  });
  const exit = new Promise<{ code: number; stderr: string; stdout: string }>((resolve) => child.once('exit', (code) => resolve({ code: code ?? -1, stderr, stdout })));
  return { child, first, exit };
}

describe.skipIf(!hasDocker)('lease port-forward and connect through the relay', () => {
  let bench: RelayBench;
  let image: string;
  let leaseId: string;
  let httpPort: number;
  let sshPort: number;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    image = await ensureTestImage();
    // 50 concurrent connections are 50 streams of one lease: above the default per-lease limit (32), which refuses (and
    // so resets) whichever streams open while 32 are still open; how many overlap depends on the machine's load.
    bench = await startRelayBench('sqlite', { relayLimits: { perLease: 64 } });
    await bench.startAgent();
    httpPort = await freePort();
    sshPort = await freePort();
    // Today a lease with ports shares the host's network; the relay reaches its declared ports on 127.0.0.1 (with a
    // lease network it would use the container's own address).
    const script = [
      'mkdir -p /tmp/www && echo "hello from the lease" > /tmp/www/index.html && head -c 6000000 /dev/zero > /tmp/www/blob',
      `httpd -f -p ${httpPort} -h /tmp/www &`,
      // A stand-in SSH server: it sends an SSH banner and records what the client says (no sshd in the test image).
      `while true; do nc -l -p ${sshPort} -e sh -c 'echo SSH-2.0-iocliRelayTest; head -c 21 > /tmp/client-banner'; done`,
    ].join('\n');
    leaseId = await bench.runningLease({ image, command: ['sh', '-c', script], ports: [httpPort, sshPort] });
  }, 90_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await bench?.close();
  });

  it('forwards a local port to an HTTP server in the container: 50 concurrent requests', async () => {
    await waitFor('the HTTP server in the lease', async () => {
      const probe = await iocli(['lease', 'connect', leaseId, String(httpPort)], bench.env(), { input: 'GET /index.html HTTP/1.0\r\n\r\n', timeoutMs: 15_000 });
      return probe.stdout.toString().includes('hello from the lease');
    }, { timeoutMs: 30_000 });
    const forward = startForward(['lease', 'port-forward', leaseId, `0:${httpPort}`, '--json'], bench.env());
    children.push(forward.child);
    const info = await forward.first;
    expect(info.listeners[0]).toMatchObject({ host: '127.0.0.1', remotePort: httpPort });
    const localPort = info.listeners[0].localPort as number;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => httpGet(localPort, `/index.html?n=${i}`)));
    expect(results.every((r) => r.status === 200 && r.body === 'hello from the lease\n')).toBe(true);
    forward.child.kill('SIGINT');
    const exit = await forward.exit;
    expect(exit.code).toBe(0);
  }, 60_000);

  it('a slow local reader gets every byte, up to the last, of a download the container ends', async () => {
    const forward = startForward(['lease', 'port-forward', leaseId, `0:${httpPort}`, '--json'], bench.env());
    children.push(forward.child);
    const localPort = (await forward.first).listeners[0].localPort as number;
    // Reads 64 KB every 10 ms: the relay finishes long before this reader, so the end waits in port-forward's socket.
    const received = await new Promise<number>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: localPort }, () => socket.write('GET /blob HTTP/1.0\r\n\r\n'));
      let bytes = 0;
      socket.pause();
      const timer = setInterval(() => {
        for (let chunk = socket.read(65536); chunk; chunk = null) bytes += (chunk as Buffer).length;
      }, 10);
      socket.on('end', () => {
        clearInterval(timer);
        resolve(bytes);
      });
      socket.on('readable', () => {});
      socket.on('error', (error) => {
        clearInterval(timer);
        reject(error);
      });
    });
    // The HTTP header and then all 6 MB of the body.
    expect(received).toBeGreaterThan(6_000_000);
    expect(received).toBeLessThan(6_000_000 + 1000);
    forward.child.kill('SIGINT');
    expect((await forward.exit).code).toBe(0);
  }, 60_000);

  it('works as an OpenSSH ProxyCommand (lease connect): the banners cross both ways', async ({ skip }) => {
    if (!hasSsh) skip();
    // The stand-in server listens once the container's script gets there (slow under load): wait for its banner.
    await waitFor('the stand-in SSH server', async () => {
      const probe = await iocli(['lease', 'connect', leaseId, String(sshPort)], bench.env(), { input: 'probe-client-banner\n', timeoutMs: 15_000 });
      return probe.stdout.toString().startsWith('SSH-2.0-iocliRelayTest');
    }, { timeoutMs: 30_000 });
    const proxy = `${process.execPath} ${BIN} lease connect ${leaseId} ${sshPort}`;
    // Not spawnSync: the coordinator and the agent run in this process and must keep serving.
    const child = spawn(
      'ssh',
      ['-v', '-o', `ProxyCommand=${proxy}`, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=20', 'root@lease', 'true'],
      { env: { ...process.env, ...bench.env(), NO_COLOR: '1', CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    const ssh = { stderr: '' };
    child.stderr!.on('data', (c: Buffer) => (ssh.stderr += c.toString()));
    await new Promise((resolve) => child.once('exit', resolve));
    // The stand-in server stops after the banner exchange, so ssh fails after it; what matters is that it got there.
    expect(ssh.stderr).toContain('remote software version iocliRelayTest');
    const seen = await iocli(['lease', 'exec', leaseId, '--', 'cat', '/tmp/client-banner'], bench.env());
    expect(seen.stdout.toString()).toMatch(/^SSH-2\.0-OpenSSH/);
  }, 60_000);

  it("refuses ports the lease did not declare (the rig's own loopback services)", async () => {
    const coordinatorPort = new URL(bench.coordinator.url).port;
    const result = await iocli(['lease', 'connect', leaseId, coordinatorPort], bench.env(), { input: 'GET /healthz HTTP/1.0\r\n\r\n' });
    expect(result.code).not.toBe(0);
    expect(result.stdout.length).toBe(0);
    // The agent connects to the container's own address on its lease network, where the rig's loopback services do not
    // exist (a container that shared the host's network would be limited to its declared ports instead).
    expect(result.stderr.toString()).toMatch(/Nothing accepts connections on port \d+ of lease/);
  });

  it('stops forwarding when the lease ends', async () => {
    const forward = startForward(['lease', 'port-forward', leaseId, `0:${httpPort}`, '--json', '--lease-check', '300'], bench.env());
    children.push(forward.child);
    const info = await forward.first;
    expect((await httpGet(info.listeners[0].localPort, '/index.html')).status).toBe(200);
    await bench.renterApi.stopLease(leaseId);
    const exit = await waitFor('port-forward to exit', () => Promise.race([forward.exit, new Promise<false>((r) => setTimeout(() => r(false), 200))]), { timeoutMs: 10_000 });
    expect(exit.code).toBe(0);
    expect(JSON.parse(exit.stdout.trim().split('\n').at(-1)!)).toEqual({ leaseId, stopped: 'lease stopped' });
  }, 60_000);
});
