// Real programs in a lease container under the provider's profile (real dockerd, Debian's own binaries): OpenSSH accepts
// a key login, privileges drop to nobody, /dev/shm and ulimits fit deep-learning jobs; escapes still fail; the lease's
// network reaches none of the host's loopback services and opens no host port it did not declare.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createConnection, createServer, type Server } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEASE_CAPABILITIES, type ContainerRunSpec } from '../../src/domain/docker-args.js';
import { createDockerRuntime } from '../../src/docker/runtime.js';
import { buildCompatImage, missingCompatPrograms, type CompatImage } from '../support/compat-image.js';
import { docker, dockerInspect, ensureDocker, ensureTestImage, removeContainersByLabel } from '../support/docker.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';

const execFileAsync = promisify(execFile);
const available = (await ensureDocker()) && (await missingCompatPrograms()).length === 0;
const MiB = 1024 * 1024;
const runId = randomUUID().slice(0, 8);
const nodeId = `compat-node-${runId}`;

// Linux capability numbers (include/uapi/linux/capability.h).
const CAP_NUMBERS: Record<string, number> = { CHOWN: 0, DAC_OVERRIDE: 1, FOWNER: 3, KILL: 5, SETGID: 6, SETUID: 7, SYS_CHROOT: 18 };

/** Resolves true when something accepts a TCP connection on host:port within 1.5 s. */
function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: 1500 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

describe.skipIf(!available)('lease compatibility and escapes (real dockerd, Debian programs)', () => {
  const runtime = createDockerRuntime({ nodeId });
  let image: CompatImage;
  let sshId = '';
  let sshPort = 0;
  let spec: ContainerRunSpec;
  const timings: Record<string, number> = {};

  async function exec(script: string): Promise<string> {
    const result = await docker(['exec', sshId, 'sh', '-c', script], 120_000);
    return result.stdout + result.stderr;
  }

  beforeAll(async () => {
    await ensureTestImage();
    const building = performance.now();
    image = await buildCompatImage(runId);
    timings.imageBuild = Math.round(performance.now() - building);
    spec = {
      leaseId: `ssh-${runId}`,
      nodeId,
      name: `iocli-compat-${runId}`,
      image: image.ref,
      command: ['/usr/sbin/sshd', '-D', '-e'],
      gpuUuids: [],
      // Enough for a 1 GiB /dev/shm (half the memory) and the page cache around it.
      memoryBytes: 2560 * MiB,
      cpus: 1,
      pidsLimit: 256,
      readOnlyRoot: false,
      network: 'lease',
      ports: [22],
    };
    const started = performance.now();
    sshId = await runtime.run(spec);
    const published = await waitFor('the published ssh port', async () => (await dockerInspect(sshId)).NetworkSettings.Ports?.['22/tcp']?.[0]);
    timings.runToPublished = Math.round(performance.now() - started);
    sshPort = Number(published.HostPort);
  }, 180_000);

  afterAll(async () => {
    await removeContainersByLabel(`iocli.node=${nodeId}`);
    await image?.dispose();
    if (Object.keys(timings).length > 0) process.stderr.write(`compat timings (ms): ${JSON.stringify(timings)}\n`);
  });

  it('docker inspect shows exactly the documented capabilities, shm size and ulimits', async () => {
    const raw = await dockerInspect(sshId);
    expect(raw.HostConfig.CapDrop).toEqual(['ALL']);
    expect(raw.HostConfig.CapAdd).toEqual(LEASE_CAPABILITIES.map((cap) => `CAP_${cap}`));
    expect(raw.HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
    expect(raw.HostConfig.Privileged).toBe(false);
    expect(raw.HostConfig.ShmSize).toBe(1280 * MiB);
    const ulimits = await runtime.grantableUlimits();
    const byName = Object.fromEntries((raw.HostConfig.Ulimits as Array<{ Name: string; Soft: number; Hard: number }>).map((u) => [u.Name, u]));
    expect(byName).toEqual({
      memlock: { Name: 'memlock', Soft: ulimits.memlock, Hard: ulimits.memlock },
      stack: { Name: 'stack', Soft: 64 * MiB, Hard: 64 * MiB },
      nofile: { Name: 'nofile', Soft: ulimits.nofile, Hard: ulimits.nofile },
    });

    // The kernel's view of the main process (sshd): the same set, effective and bounding, nothing more.
    const status = await exec('grep -E "^Cap(Eff|Bnd)" /proc/1/status');
    const expected = LEASE_CAPABILITIES.reduce((mask, cap) => mask | (1n << BigInt(CAP_NUMBERS[cap]!)), 0n);
    for (const line of status.trim().split('\n')) expect(BigInt(`0x${line.split(/\s+/)[1]}`)).toBe(expected);
  });

  it('a real sshd accepts a key login from a real ssh client (privilege separation works)', async () => {
    // The client checks the host key the image was built with: this is the lease's sshd, not some other listener.
    const knownHosts = `${image.clientKeyPath}.known_hosts`;
    await writeFile(knownHosts, `[127.0.0.1]:${sshPort} ${image.hostPublicKey}\n`);
    const ssh = async (user: string) => {
      try {
        const { stdout } = await execFileAsync('ssh', [
          '-i', image.clientKeyPath,
          '-o', 'BatchMode=yes',
          '-o', 'StrictHostKeyChecking=yes',
          '-o', `UserKnownHostsFile=${knownHosts}`,
          '-o', 'ConnectTimeout=10',
          '-p', String(sshPort),
          `${user}@127.0.0.1`,
          'id -u; cat /proc/self/status | grep ^NoNewPrivs',
        ], { timeout: 30_000 });
        return { ok: true, stdout };
      } catch (error) {
        return { ok: false, stdout: String((error as { stderr?: string }).stderr ?? error) };
      }
    };
    const started = performance.now();
    const login = await waitFor('an ssh login', async () => {
      const attempt = await ssh('root');
      return attempt.ok ? attempt : undefined;
    }, { timeoutMs: 30_000 });
    timings.sshLogin = Math.round(performance.now() - started);
    expect(login.stdout).toBe('0\nNoNewPrivs:\t1\n');
    // A user without a key is refused: the login above was the key, not an open door.
    expect((await ssh('nobody')).ok).toBe(false);
    const logs = await docker(['logs', sshId]);
    expect(logs.stdout + logs.stderr).toMatch(/Accepted publickey for root/);
    expect(logs.stdout + logs.stderr).not.toMatch(/chroot\("\/run\/sshd"\): Operation not permitted/);
  });

  it('drops privileges to nobody (setgroups, setgid, setuid) with util-linux setpriv', async () => {
    const ids = await exec('/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups grep -E "^(Uid|Gid|Groups):" /proc/self/status');
    expect(ids.replace(/[ \t]+/g, ' ').trim()).toBe('Uid: 65534 65534 65534 65534\nGid: 65534 65534 65534 65534\nGroups:');
    // chown of a file to another user, then work as that user: what entrypoints do before gosu.
    expect(await exec('mkdir /tmp/home && chown 65534:65534 /tmp/home && /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups touch /tmp/home/ok && ls -n /tmp/home/ok')).toMatch(
      /65534\s+65534/,
    );
  });

  it('takes 1 GiB in /dev/shm in a lease with enough memory', async () => {
    const started = performance.now();
    const out = await exec('dd if=/dev/zero of=/dev/shm/block bs=1048576 count=1024 2>&1 && ls -l /dev/shm/block; rm -f /dev/shm/block');
    timings.shmWrite1GiB = Math.round(performance.now() - started);
    expect(out).toContain('1024+0 records out');
    expect(out).toContain(String(1024 * MiB));
  });

  it('shows the raised ulimits', async () => {
    const ulimits = await runtime.grantableUlimits();
    const memlock = ulimits.memlock === -1 ? 'unlimited' : String(ulimits.memlock / 1024);
    expect(await exec('ulimit -l; ulimit -s; ulimit -n')).toBe(`${memlock}\n65536\n${ulimits.nofile}\n`);
  });

  it.each([
    ['mount a filesystem', 'mount -t tmpfs none /mnt', /denied|not permitted/i],
    ['reach the docker socket', 'ls /var/run/docker.sock /run/docker.sock', /No such file/],
    ['open a raw socket', `perl -e 'socket(my $s, 2, 3, 1) or die "raw: $!\\n"; print "RAW=ok\\n"'`, /raw: Operation not permitted/],
    ['open a packet socket', `perl -e 'socket(my $s, 17, 3, 0) or die "packet: $!\\n"; print "PACKET=ok\\n"'`, /packet: Operation not permitted/],
    ['ptrace a process of another user', '/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups sleep 30 & sleep 0.3; /usr/bin/strace -p $! -e trace=none 2>&1; kill $!', /Operation not permitted/],
    ['ptrace the main process as another user', '/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/strace -p 1 -e trace=none 2>&1', /Operation not permitted/],
    ['load a kernel module', `perl -e 'open(my $f, "<", "/bin/busybox") or die; my $args = ""; syscall(313, fileno($f), $args, 0) == -1 ? print "module: $!\\n" : print "MODULE=ok\\n"'`, /module: Operation not permitted/],
    ['make a device node', 'mknod /tmp/mem c 1 1', /not permitted/i],
    ['change the network', 'ip link add iocdummy0 type dummy', /not permitted/i],
  ])('cannot %s', async (_what, script, refused) => {
    expect(await exec(`${script}; echo "EXIT=$?"`)).toMatch(refused);
  });

  describe('lease networking', () => {
    let server: Server;
    let serverPort = 0;

    beforeAll(async () => {
      server = createServer((socket) => socket.end('host-secret\n'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      serverPort = (server.address() as { port: number }).port;
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('the host’s loopback services are out of reach: neither 127.0.0.1 nor the bridge gateway answers', async () => {
      const raw = await dockerInspect(sshId);
      const gateway = (Object.values(raw.NetworkSettings.Networks)[0] as { Gateway: string }).Gateway;
      expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      const probe = (host: string) => `nc -w 2 ${host} ${serverPort} </dev/null && echo REACHED || echo BLOCKED`;
      expect(await exec(probe('127.0.0.1'))).toMatch(/BLOCKED/);
      expect(await exec(probe(gateway))).toMatch(/BLOCKED/);
      // The control: the same probe from the host's network namespace (what --network host gave a lease) reaches it.
      const control = await docker(['run', '--rm', '--network', 'host', '--label', `iocli.node=${nodeId}`, image.ref, 'sh', '-c', `nc -w 2 127.0.0.1 ${serverPort} </dev/null`]);
      expect(control.stdout).toContain('host-secret');
    });

    it('a port the lease did not declare is never opened on the host; the declared one only on 127.0.0.1', async () => {
      const port = await freePort();
      await docker(['exec', '-d', sshId, 'nc', '-l', '-p', String(port)]);
      // /proc/net/tcp{,6} list the container's sockets with hex ports; state 0A is LISTEN.
      const hex = port.toString(16).toUpperCase().padStart(4, '0');
      await waitFor('the listener inside', async () => (await exec(`cat /proc/net/tcp /proc/net/tcp6 | grep -E ":${hex} [0:]+ 0A"`)).trim() !== '' || undefined, { timeoutMs: 10_000 });
      expect(await connects('127.0.0.1', port)).toBe(false);
      const raw = await dockerInspect(sshId);
      expect(Object.keys(raw.NetworkSettings.Ports)).toEqual(['22/tcp']);
      expect(raw.NetworkSettings.Ports['22/tcp'].every((binding: { HostIp: string }) => binding.HostIp === '127.0.0.1')).toBe(true);
      expect(raw.HostConfig.NetworkMode).toBe(`${spec.name}-net`);
      expect(await connects('127.0.0.1', sshPort)).toBe(true);
    });

    // Docker enforces --internal with iptables rules: a daemon run with --iptables=false (as here) keeps the flag but not
    // the isolation, which is why preflight checks the daemon's iptables (see the README's lease networking section).
    it('a lease without egress gets an internal network of its own', async () => {
      const internal = await runtime.run({ ...spec, leaseId: `internal-${runId}`, name: `iocli-compat-int-${runId}`, egress: false, ports: [], command: ['sleep', '300'] });
      const network = await dockerInspect(internal).then((raw) => raw.HostConfig.NetworkMode as string);
      const info = JSON.parse((await docker(['network', 'inspect', network])).stdout)[0];
      expect(info.Internal).toBe(true);
      expect(info.Labels).toMatchObject({ 'iocli.managed': 'true', 'iocli.node': nodeId, 'iocli.lease': `internal-${runId}` });
      await runtime.remove(internal);
      expect((await docker(['network', 'inspect', network])).code).not.toBe(0);
    });
  });
});
