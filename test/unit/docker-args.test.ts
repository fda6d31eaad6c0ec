// Table tests for the lease container's `docker run` arguments (the provider security profile).
import { describe, expect, it } from 'vitest';
import {
  buildNetworkCreateArgs,
  buildRunArgs,
  LEASE_CAPABILITIES,
  leaseBridgeName,
  leaseNetworkName,
  shmBytesFor,
  type ContainerRunSpec,
} from '../../src/domain/docker-args.js';
import { UserError } from '../../src/errors.js';

const MiB = 1024 * 1024;
const GPU_A = 'GPU-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const GPU_B = 'GPU-11111111-2222-3333-4444-555555555555';

function spec(overrides: Partial<ContainerRunSpec> = {}): ContainerRunSpec {
  return {
    leaseId: 'lease-1',
    nodeId: 'node-1',
    image: 'nvidia/cuda:12.4.1-runtime-ubuntu22.04',
    gpuUuids: [],
    memoryBytes: 512 * MiB,
    cpus: 2,
    pidsLimit: 256,
    readOnlyRoot: false,
    network: 'none',
    name: 'iocli-lease-1',
    ...overrides,
  };
}

/** The value following each occurrence of `flag`. */
function values(args: string[], flag: string): string[] {
  return args.flatMap((arg, i) => (arg === flag ? [args[i + 1]!] : []));
}

describe('buildRunArgs', () => {
  it('builds the full argument list for a minimal spec', () => {
    expect(buildRunArgs(spec())).toEqual([
      'run', '-d', '--pull', 'never', '--name', 'iocli-lease-1',
      '--label', 'iocli.managed=true', '--label', 'iocli.lease=lease-1', '--label', 'iocli.node=node-1',
      '--restart', 'no', '--network', 'none', '--cap-drop', 'ALL',
      '--cap-add', 'CHOWN', '--cap-add', 'DAC_OVERRIDE', '--cap-add', 'FOWNER', '--cap-add', 'KILL',
      '--cap-add', 'SETGID', '--cap-add', 'SETUID', '--cap-add', 'SYS_CHROOT',
      '--security-opt', 'no-new-privileges',
      '--memory', String(512 * MiB), '--memory-swap', String(512 * MiB), '--cpus', '2', '--pids-limit', '256',
      '--shm-size', String(256 * MiB),
      '--ulimit', 'memlock=-1:-1', '--ulimit', 'stack=67108864:67108864', '--ulimit', 'nofile=65536:65536',
      '--log-driver', 'json-file', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3',
      'nvidia/cuda:12.4.1-runtime-ubuntu22.04',
    ]);
  });

  it('never emits privileged, mounts, volumes, host namespaces, a socket or a dangerous capability', () => {
    for (const network of ['none', 'lease'] as const) {
      const args = buildRunArgs(spec({ network, ports: network === 'lease' ? [22] : [], readOnlyRoot: true, gpuUuids: [GPU_A], env: { A: '/var/run/docker.sock' }, user: { uid: 1000, gid: 1000 } }));
      for (const forbidden of ['--privileged', '-v', '--volume', '--mount', '--device', '--pid', '--ipc', '--uts', '--userns', '--volumes-from', '-p', '--cgroupns']) {
        expect(args).not.toContain(forbidden);
      }
      expect(values(args, '--network')).not.toContain('host');
      expect(values(args, '--cap-add')).toEqual([...LEASE_CAPABILITIES]);
      for (const dangerous of ['ALL', 'SYS_ADMIN', 'NET_ADMIN', 'NET_RAW', 'SYS_PTRACE', 'SYS_MODULE', 'MKNOD', 'NET_BIND_SERVICE', 'SYS_RESOURCE', 'DAC_READ_SEARCH']) {
        expect(values(args, '--cap-add')).not.toContain(dangerous);
      }
      expect(values(args, '--security-opt')).toEqual(['no-new-privileges']);
      expect(args.filter((a) => a.includes('docker.sock'))).toEqual(['A=/var/run/docker.sock']);
    }
  });

  it.each([
    [6 * MiB, 64 * MiB],
    [128 * MiB, 64 * MiB],
    [512 * MiB, 256 * MiB],
    [64 * 1024 * MiB, 32 * 1024 * MiB],
    [3 * 1024 * MiB + 1, Math.floor((3 * 1024 * MiB + 1) / 2)],
  ])('memory %d → /dev/shm %d (half the memory, at least 64 MiB)', (memoryBytes, shm) => {
    expect(shmBytesFor(memoryBytes)).toBe(shm);
    expect(values(buildRunArgs(spec({ memoryBytes })), '--shm-size')).toEqual([String(shm)]);
  });

  it('takes the node’s ulimits and an explicit shm size', () => {
    const args = buildRunArgs(spec({ ulimits: { memlock: 8 * MiB, stack: 64 * MiB, nofile: 20_000 }, shmBytes: 1024 * MiB }));
    expect(values(args, '--ulimit')).toEqual([`memlock=${8 * MiB}:${8 * MiB}`, 'stack=67108864:67108864', 'nofile=20000:20000']);
    expect(values(args, '--shm-size')).toEqual([String(1024 * MiB)]);
  });

  it.each([
    [[], []],
    [[GPU_A], [`"device=${GPU_A}"`]],
    [[GPU_A, GPU_B], [`"device=${GPU_A},${GPU_B}"`]],
    [['MIG-GPU-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/1/0'], ['"device=MIG-GPU-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/1/0"']],
  ])('gpus %j → --gpus %j', (gpuUuids, expected) => {
    expect(values(buildRunArgs(spec({ gpuUuids })), '--gpus')).toEqual(expected);
  });

  it.each([
    [false, [], []],
    [true, ['--read-only'], [`/tmp:rw,exec,nosuid,nodev,size=${512 * MiB},mode=1777`]],
  ])('readOnlyRoot %s', (readOnlyRoot, readOnly, tmpfs) => {
    const args = buildRunArgs(spec({ readOnlyRoot }));
    expect(args.filter((a) => a === '--read-only')).toEqual(readOnly);
    expect(values(args, '--tmpfs')).toEqual(tmpfs);
  });

  it('caps the default tmpfs at 1 GiB and honours tmpfsBytes', () => {
    expect(values(buildRunArgs(spec({ readOnlyRoot: true, memoryBytes: 8192 * MiB })), '--tmpfs')).toEqual([`/tmp:rw,exec,nosuid,nodev,size=${1024 * MiB},mode=1777`]);
    expect(values(buildRunArgs(spec({ readOnlyRoot: true, tmpfsBytes: 64 * MiB })), '--tmpfs')).toEqual([`/tmp:rw,exec,nosuid,nodev,size=${64 * MiB},mode=1777`]);
  });

  it.each([
    [0.5, '0.5'],
    [1, '1'],
    [1 / 3, '0.333'],
    [64, '64'],
  ])('cpus %s → %s', (cpus, expected) => {
    expect(values(buildRunArgs(spec({ cpus })), '--cpus')).toEqual([expected]);
  });

  it('puts user, env, image and command last, in order, command as separate argv entries', () => {
    const args = buildRunArgs(spec({
      user: { uid: 1000, gid: 100 },
      env: { HF_TOKEN: 'x=y=z', MULTI: 'a\nb', EMPTY: '' },
      command: ['sh', '-c', 'echo "$HF_TOKEN"; rm -rf /', '--privileged'],
    }));
    const imageAt = args.indexOf('nvidia/cuda:12.4.1-runtime-ubuntu22.04');
    expect(args.slice(imageAt - 8)).toEqual([
      '--user', '1000:100',
      '--env', 'HF_TOKEN=x=y=z', '--env', 'MULTI=a\nb', '--env', 'EMPTY=',
      'nvidia/cuda:12.4.1-runtime-ubuntu22.04',
      'sh', '-c', 'echo "$HF_TOKEN"; rm -rf /', '--privileged',
    ]);
  });

  it('lease network with ports: its own network, ports published on 127.0.0.1 only, a ports label', () => {
    const args = buildRunArgs(spec({ network: 'lease', ports: [8080, 22] }));
    expect(values(args, '--network')).toEqual(['iocli-lease-1-net']);
    expect(values(args, '--publish')).toEqual(['127.0.0.1::8080', '127.0.0.1::22']);
    expect(values(args, '--label')).toContain('iocli.ports=8080,22');
  });

  it('lease network without ports publishes nothing', () => {
    const args = buildRunArgs(spec({ network: 'lease' }));
    expect(values(args, '--network')).toEqual(['iocli-lease-1-net']);
    expect(args).not.toContain('--publish');
  });

  it.each([
    [undefined, []],
    [true, []],
    [false, ['--internal']],
  ])('network create with egress %j', (egress, extra) => {
    const name = leaseNetworkName('iocli-lease-1');
    expect(buildNetworkCreateArgs({ leaseId: 'lease-1', nodeId: 'node-1', name: 'iocli-lease-1', ...(egress === undefined ? {} : { egress }) })).toEqual([
      'network', 'create', '--driver', 'bridge',
      '--label', 'iocli.managed=true', '--label', 'iocli.lease=lease-1', '--label', 'iocli.node=node-1',
      '--opt', `com.docker.network.bridge.name=${leaseBridgeName(name)}`,
      ...extra,
      name,
    ]);
  });

  it('bridge names fit Linux’s 15 characters and match ioc+', () => {
    const names = ['iocli-a-net', 'iocli-b-net', `iocli-${'x'.repeat(120)}-net`].map(leaseBridgeName);
    for (const name of names) expect(name).toMatch(/^ioc[0-9a-f]{12}$/);
    expect(new Set(names).size).toBe(3);
  });

  it('does not mutate its input', () => {
    const input = spec({ env: { A: '1' }, gpuUuids: [GPU_A], command: ['x'] });
    const copy = structuredClone(input);
    buildRunArgs(input);
    expect(input).toEqual(copy);
  });

  it.each<[string, Partial<ContainerRunSpec>, RegExp]>([
    ['empty lease id', { leaseId: '' }, /lease id/],
    ['lease id with =', { leaseId: 'a=b' }, /lease id/],
    ['lease id with comma', { leaseId: 'a,b' }, /lease id/],
    ['lease id starting with -', { leaseId: '-x' }, /lease id/],
    ['node id with space', { nodeId: 'node 1' }, /node id/],
    ['node id too long', { nodeId: 'n'.repeat(129) }, /node id/],
    ['name with slash', { name: 'a/b' }, /container name/],
    ['name starting with -', { name: '-a' }, /container name/],
    ['bad image', { image: 'Bad Image' }, /image reference/],
    ['option as image', { image: '--privileged' }, /image reference/],
    ['memory too small', { memoryBytes: 1024 }, /memory/],
    ['memory fractional', { memoryBytes: 10 * MiB + 0.5 }, /memory/],
    ['memory NaN', { memoryBytes: Number.NaN }, /memory/],
    ['cpus zero', { cpus: 0 }, /CPU/],
    ['cpus negative', { cpus: -1 }, /CPU/],
    ['cpus infinite', { cpus: Number.POSITIVE_INFINITY }, /CPU/],
    ['pids zero', { pidsLimit: 0 }, /pids/],
    ['pids fractional', { pidsLimit: 1.5 }, /pids/],
    ['network bridge', { network: 'bridge' as 'none' }, /network/],
    ['network host', { network: 'host' as 'none' }, /network/],
    ['network container:x', { network: 'container:x' as 'none' }, /network/],
    ['egress not boolean', { network: 'lease', egress: 'no' as unknown as boolean }, /egress/],
    ['shm too small', { shmBytes: 1 }, /shm/],
    ['memlock zero', { ulimits: { memlock: 0, stack: 1, nofile: 1 } }, /memlock/],
    ['nofile fractional', { ulimits: { memlock: -1, stack: 1, nofile: 1.5 } }, /nofile/],
    ['readOnlyRoot not boolean', { readOnlyRoot: 'yes' as unknown as boolean }, /readOnlyRoot/],
    ['gpu uuid with comma', { gpuUuids: ['GPU-a,GPU-b'] }, /GPU UUID/],
    ['gpu uuid with quote', { gpuUuids: ['GPU-a"'] }, /GPU UUID/],
    ['gpu all', { gpuUuids: ['all'] }, /GPU UUID/],
    ['gpu index', { gpuUuids: ['0'] }, /GPU UUID/],
    ['gpu duplicate', { gpuUuids: [GPU_A, GPU_A] }, /twice/],
    ['gpus not array', { gpuUuids: 'GPU-a' as unknown as string[] }, /gpuUuids/],
    ['port zero', { network: 'lease', ports: [0] }, /port/],
    ['port too big', { network: 'lease', ports: [65536] }, /port/],
    ['port duplicate', { network: 'lease', ports: [80, 80] }, /twice/],
    ['ports with network none', { ports: [80] }, /network "lease"/],
    ['env key with =', { env: { 'A=B': 'x' } }, /environment variable name/],
    ['env key with newline', { env: { 'A\nB': 'x' } }, /environment variable name/],
    ['env key with space', { env: { 'A B': 'x' } }, /environment variable name/],
    ['env key empty', { env: { '': 'x' } }, /environment variable name/],
    ['env value with NUL', { env: { A: 'x\u0000y' } }, /NUL/],
    ['env value not a string', { env: { A: 1 as unknown as string } }, /must be a string/],
    ['env value too long', { env: { A: 'x'.repeat(32 * 1024 + 1) } }, /longer than/],
    ['command not array', { command: 'sh -c x' as unknown as string[] }, /command/],
    ['command arg with NUL', { command: ['a\u0000'] }, /NUL/],
    ['command too many args', { command: Array.from({ length: 257 }, () => 'x') }, /more than 256/],
    ['root user', { user: { uid: 0, gid: 0 } }, /user id/],
    ['root group', { user: { uid: 1000, gid: 0 } }, /group id/],
    ['negative uid', { user: { uid: -1, gid: 1 } }, /user id/],
    ['tmpfs larger than memory', { readOnlyRoot: true, tmpfsBytes: 1024 * MiB }, /tmpfs/],
  ])('rejects %s', (_name, overrides, why) => {
    const run = () => buildRunArgs(spec(overrides));
    expect(run).toThrow(why);
    expect(run).toThrow(UserError);
  });
});
