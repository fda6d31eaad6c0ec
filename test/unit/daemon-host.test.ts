// The local dockerd as /proc shows it: its limits, whether it may raise them, its flags; and what a lease can be granted.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonFlag, parseProcLimits, readDaemonProcess, ulimitsWithin, type DaemonProcess } from '../../src/docker/daemon-host.js';
import { LEASE_ULIMITS } from '../../src/domain/docker-args.js';

// /proc/PID/limits of the dockerd on this machine (a sandbox without CAP_SYS_RESOURCE), trimmed to the rows read.
const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max stack size            8388608              unlimited            bytes
Max open files            20000                20000                files
Max locked memory         8388608              8388608              bytes
`;
const MiB = 1024 * 1024;

function daemon(overrides: Partial<DaemonProcess> = {}): DaemonProcess {
  return { pid: 1, args: ['dockerd'], hardLimits: { memlock: 8 * MiB, stack: -1, nofile: 20_000 }, canRaiseLimits: false, ...overrides };
}

describe('daemon host facts', () => {
  it('parses the hard limits, unlimited as -1', () => {
    expect(parseProcLimits(LIMITS)).toEqual({ memlock: 8 * MiB, stack: -1, nofile: 20_000 });
    expect(parseProcLimits('Limit Soft Hard\n')).toBeUndefined();
  });

  it.each([
    ['no daemon seen: what was wanted', undefined, LEASE_ULIMITS],
    ['a daemon that may raise limits: what was wanted', daemon({ canRaiseLimits: true }), LEASE_ULIMITS],
    ['a daemon that may not: capped at its own', daemon(), { memlock: 8 * MiB, stack: 64 * MiB, nofile: 20_000 }],
    ['a daemon with unlimited limits: what was wanted', daemon({ hardLimits: { memlock: -1, stack: -1, nofile: 1 << 20 } }), LEASE_ULIMITS],
  ])('%s', (_name, facts, expected) => {
    expect(ulimitsWithin(LEASE_ULIMITS, facts)).toEqual(expected);
  });

  it.each([
    [['dockerd', '--iptables=false', '--bridge=none'], 'iptables', 'false'],
    [['dockerd', '--iptables', '--bridge=none'], 'iptables', 'true'],
    [['dockerd'], 'iptables', undefined],
    [['dockerd', '--userns-remap', 'default'], 'userns-remap', 'default'],
    [['dockerd', '--userns-remap=iocli'], 'userns-remap', 'iocli'],
  ])('daemonFlag(%j, %s) → %j', (args, name, value) => {
    expect(daemonFlag(args, name)).toBe(value);
  });

  it('finds dockerd in a /proc tree and reads its bounding set', async () => {
    const root = await mkdtemp(join(tmpdir(), 'iocli-proc-'));
    try {
      for (const [pid, comm, capBnd] of [['12', 'containerd', '000001ffffffffff'], ['34', 'dockerd', '000001fffeffffff']] as const) {
        await mkdir(join(root, pid));
        await writeFile(join(root, pid, 'comm'), `${comm}\n`);
        await writeFile(join(root, pid, 'cmdline'), `/usr/sbin/${comm}\u0000--iptables=false\u0000`);
        await writeFile(join(root, pid, 'limits'), LIMITS);
        await writeFile(join(root, pid, 'status'), `Name:\t${comm}\nCapBnd:\t${capBnd}\n`);
      }
      await mkdir(join(root, 'self'));
      expect(await readDaemonProcess(root)).toEqual({
        pid: 34,
        args: ['/usr/sbin/dockerd', '--iptables=false'],
        hardLimits: { memlock: 8 * MiB, stack: -1, nofile: 20_000 },
        canRaiseLimits: false,
      });
      await writeFile(join(root, '34', 'status'), 'CapBnd:\t000001ffffffffff\n');
      expect((await readDaemonProcess(root))?.canRaiseLimits).toBe(true);
      expect(await readDaemonProcess(join(root, 'absent'))).toBeUndefined();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
