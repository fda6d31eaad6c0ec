// Interactive and file access through the relay, on a two-node lease: `lease shell` on a real pseudo-terminal (prompt,
// window resize, exit code), `lease cp` round trip of a directory with modes, `--node` reaching each node's container,
// and `lease ssh-config` giving a block OpenSSH accepts.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { dockerOk, ensureDocker, ensureTestImage } from '../support/docker.js';
import { iocli, startRelayBench, type RelayBench } from '../support/relay.js';

const hasDocker = await ensureDocker();
const hasPython = spawnSync('python3', ['-c', 'import pty']).status === 0;
const hasSsh = spawnSync('ssh', ['-V']).status === 0;

// Runs argv on a real pseudo-terminal (Python's pty), sets its window size, answers the shell prompt, resizes, exits.
const PTY_DRIVER = String.raw`
import os, pty, sys, time, fcntl, termios, struct, signal, select, json
argv = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(argv[0], argv, os.environ)
def size(rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    os.kill(pid, signal.SIGWINCH)
size(30, 100)
screen = b''
def wait_for(needle, timeout=20):
    global screen
    deadline = time.time() + timeout
    while needle not in screen:
        if time.time() > deadline:
            raise SystemExit('timeout waiting for %r; screen: %r' % (needle, screen))
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                screen += os.read(fd, 65536)
            except OSError:
                raise SystemExit('pty closed; screen: %r' % screen)
wait_for(b'# ')
os.write(fd, b'stty size\r')
wait_for(b'30 100')
size(40, 120)
time.sleep(0.5)
os.write(fd, b'stty size\r')
wait_for(b'40 120')
os.write(fd, b'exit 5\r')
_, status = os.waitpid(pid, 0)
try:
    while True:
        chunk = os.read(fd, 65536)
        if not chunk: break
        screen += chunk
except OSError:
    pass
print(json.dumps({'code': os.waitstatus_to_exitcode(status), 'screen': screen.decode('utf8', 'replace')}))
`;

describe.skipIf(!hasDocker)('shell, cp, --node and ssh-config through the relay (two-node lease)', () => {
  let bench: RelayBench;
  let image: string;
  let leaseId: string;
  let nodes: string[];

  beforeAll(async () => {
    image = await ensureTestImage();
    bench = await startRelayBench('sqlite');
    await bench.startAgent({ simulate: '1:RTX4090' });
    await bench.startAgent({ simulate: '1:RTX4090' });
    leaseId = await bench.runningLease({ image, command: ['sleep', '600'], gpus: 2, multiNode: true });
    nodes = [...new Set((await bench.renterApi.lease(leaseId)).allocations.map((a) => a.nodeId))].sort();
  }, 120_000);

  afterAll(async () => {
    await bench?.close();
  });

  it('--node reaches the container on each node of a multi-node lease', async () => {
    expect(nodes).toHaveLength(2);
    for (const node of nodes) {
      const container = (await dockerOk(['ps', '-q', '--filter', `label=iocli.lease=${leaseId}`, '--filter', `label=iocli.node=${node}`])).trim();
      const result = await iocli(['lease', 'exec', '--node', node, leaseId, '--', 'sh', '-c', 'hostname'], bench.env());
      expect(result.code).toBe(0);
      expect(container.startsWith(result.stdout.toString().trim())).toBe(true);
    }
    const wrong = await iocli(['lease', 'exec', '--node', 'node_not_in_lease', leaseId, '--', 'true'], bench.env());
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.toString()).toMatch(/not one of lease/);
  }, 60_000);

  it.skipIf(!hasPython)('lease shell on a real pseudo-terminal: prompt, window size, resize, exit code', async () => {
    const child = spawn('python3', ['-c', PTY_DRIVER, process.execPath, BIN, 'lease', 'shell', leaseId], {
      env: { ...process.env, ...bench.env(), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect({ code, err }).toEqual({ code: 0, err: '' });
    const result = JSON.parse(out) as { code: number; screen: string };
    expect(result.screen).toContain('30 100');
    expect(result.screen).toContain('40 120');
    expect(result.code).toBe(5);
  }, 60_000);

  it('lease cp copies a directory in and out with its modes', async () => {
    const source = join(bench.home, 'payload');
    await mkdir(join(source, 'nested', 'deeper'), { recursive: true });
    const big = randomBytes(2 * 1024 * 1024);
    await writeFile(join(source, 'big.bin'), big);
    await writeFile(join(source, 'run.sh'), '#!/bin/sh\necho hi\n');
    await chmod(join(source, 'run.sh'), 0o755);
    await writeFile(join(source, 'nested', 'secret.txt'), 'secret\n');
    await chmod(join(source, 'nested', 'secret.txt'), 0o600);
    await writeFile(join(source, 'nested', 'deeper', 'empty'), '');
    await chmod(join(source, 'nested', 'deeper'), 0o750);

    const up = await iocli(['lease', 'cp', source, `${leaseId}:/tmp/in`, '--json'], bench.env());
    expect({ code: up.code, stderr: up.stderr.toString() }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(up.stdout.toString())).toMatchObject({ direction: 'upload', destination: `${leaseId}:/tmp/in/payload` });
    const modes = await iocli(['lease', 'exec', leaseId, '--', 'sh', '-c', 'stat -c "%a %n" "$@"', 'sh', '/tmp/in/payload/run.sh', '/tmp/in/payload/nested/secret.txt', '/tmp/in/payload/nested/deeper'], bench.env());
    expect(modes.stdout.toString()).toBe('755 /tmp/in/payload/run.sh\n600 /tmp/in/payload/nested/secret.txt\n750 /tmp/in/payload/nested/deeper\n');

    const back = join(bench.home, 'back');
    const down = await iocli(['lease', 'cp', `${leaseId}:/tmp/in/payload`, back], bench.env());
    expect(down.code).toBe(0);
    const copied = join(back, 'payload');
    expect(createHash('sha256').update(await readFile(join(copied, 'big.bin'))).digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));
    expect((await stat(join(copied, 'run.sh'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(copied, 'nested', 'secret.txt'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(copied, 'nested', 'deeper'))).mode & 0o777).toBe(0o750);
    expect(await readFile(join(copied, 'nested', 'deeper', 'empty'), 'utf8')).toBe('');

    const missing = await iocli(['lease', 'cp', `${leaseId}:/tmp/nothing-here`, back], bench.env());
    expect(missing.code).toBe(1);
    expect(missing.stderr.toString()).toMatch(/no such file/);
  }, 60_000);

  it.skipIf(!hasSsh)('lease ssh-config prints a Host block OpenSSH accepts, proxied through lease connect', async () => {
    const result = await iocli(['lease', 'ssh-config', leaseId, '--node', nodes[1]!, '--json'], bench.env());
    expect(result.code).toBe(0);
    const info = JSON.parse(result.stdout.toString()) as { host: string; config: string; proxyCommand: string };
    expect(info.proxyCommand).toContain(`lease connect ${leaseId} 22 --node ${nodes[1]}`);
    const file = join(bench.home, 'ssh_config');
    await writeFile(file, info.config);
    const resolved = spawnSync('ssh', ['-G', '-F', file, info.host], { encoding: 'utf8' });
    expect(resolved.status).toBe(0);
    expect(resolved.stdout).toContain('user root');
    expect(resolved.stdout).toMatch(new RegExp(`proxycommand .*lease connect ${leaseId} 22`));
  });
});
