// An offline test image of real Debian programs (OpenSSH's sshd, util-linux setpriv, strace, perl) plus static busybox,
// built like the busybox image: binaries and the shared libraries `ldd` names, copied into a folder and `docker import`ed.
// Host and client keys are made per build, so each image belongs to one test run.
import { execFile } from 'node:child_process';
import { access, chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

import { dockerOk } from './docker.js';

const execFileAsync = promisify(execFile);

/** The Debian programs the image carries, where Debian installs them. */
export const COMPAT_PROGRAMS = ['/usr/sbin/sshd', '/usr/bin/setpriv', '/usr/bin/strace', '/usr/bin/perl'] as const;
const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'echo', 'sleep', 'cat', 'ls', 'mount', 'id', 'dd', 'df', 'grep', 'nc', 'ps', 'head', 'true', 'wc', 'ip', 'touch', 'mkdir', 'chown', 'rm', 'kill', 'mknod'];

export interface CompatImage {
  ref: string;
  /** Private key (OpenSSH format) whose public half is root's authorized key in the image. */
  clientKeyPath: string;
  /** known_hosts line content for the image's host key (without a host name). */
  hostPublicKey: string;
  /** Removes the image and the key folder. */
  dispose(): Promise<void>;
}

/** What the host lacks to build the image (empty: it can be built). */
export async function missingCompatPrograms(): Promise<string[]> {
  const missing: string[] = [];
  for (const path of [...COMPAT_PROGRAMS, BUSYBOX, '/usr/bin/ssh', '/usr/bin/ssh-keygen']) {
    try {
      await access(path);
    } catch {
      missing.push(path);
    }
  }
  return missing;
}

/** The shared libraries (and the loader) a dynamic binary needs, as absolute host paths. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await execFileAsync('ldd', [binary]);
  const paths = new Set<string>();
  for (const line of stdout.split('\n')) {
    const match = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (match) paths.add(match[1]!);
  }
  return [...paths];
}

async function copyInto(root: string, hostPath: string): Promise<void> {
  const target = join(root, hostPath);
  await mkdir(dirname(target), { recursive: true });
  // copyFile follows symlinks: the image gets the real bytes under the name the loader asks for.
  await copyFile(hostPath, target);
  await chmod(target, 0o755);
}

/** Builds `iocli-test/compat:<tag>`; the caller disposes of it. */
export async function buildCompatImage(tag: string): Promise<CompatImage> {
  const dir = await mkdtemp(join(tmpdir(), 'iocli-compat-'));
  const root = join(dir, 'root');
  const keys = join(dir, 'keys');
  const ref = `iocli-test/compat:${tag}`;
  try {
    for (const sub of ['bin', 'tmp', 'etc/ssh', 'run/sshd', 'root/.ssh', 'proc', 'sys', 'dev', 'var/empty', 'mnt']) {
      await mkdir(join(root, sub), { recursive: true });
    }
    await mkdir(keys, { mode: 0o700 });
    await chmod(join(root, 'tmp'), 0o1777);
    await chmod(join(root, 'root'), 0o700);
    await chmod(join(root, 'root/.ssh'), 0o700);

    await copyFile(BUSYBOX, join(root, 'bin', 'busybox'));
    await chmod(join(root, 'bin', 'busybox'), 0o755);
    for (const applet of APPLETS) await symlink('busybox', join(root, 'bin', applet));
    for (const program of COMPAT_PROGRAMS) {
      await copyInto(root, program);
      for (const lib of await sharedLibraries(program)) await copyInto(root, lib);
    }

    await writeFile(
      join(root, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/sh\nsshd:x:100:65534::/run/sshd:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
    );
    await writeFile(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    await writeFile(join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n', { mode: 0o600 });

    // Privilege separation on (the default, and what needs SETUID/SETGID/SYS_CHROOT); no PAM: the image has no PAM config.
    await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'iocli-test-host', '-f', join(keys, 'host')]);
    await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'iocli-test-client', '-f', join(keys, 'client')]);
    await copyFile(join(keys, 'host'), join(root, 'etc/ssh/ssh_host_ed25519_key'));
    await chmod(join(root, 'etc/ssh/ssh_host_ed25519_key'), 0o600);
    await copyFile(join(keys, 'client.pub'), join(root, 'root/.ssh/authorized_keys'));
    await chmod(join(root, 'root/.ssh/authorized_keys'), 0o600);
    await writeFile(
      join(root, 'etc/ssh/sshd_config'),
      [
        'Port 22',
        'HostKey /etc/ssh/ssh_host_ed25519_key',
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'PidFile none',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );

    const tar = join(dir, 'rootfs.tar');
    await execFileAsync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', tar, '.']);
    await dockerOk(['import', '--change', 'ENV PATH=/bin:/usr/bin:/usr/sbin', '--change', 'CMD ["/bin/sh"]', tar, ref], 120_000);
    await rm(root, { recursive: true, force: true });
    await rm(tar, { force: true });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const hostPublicKey = (await readFile(join(keys, 'host.pub'), 'utf8')).trim().split(' ').slice(0, 2).join(' ');
  return {
    ref,
    clientKeyPath: join(keys, 'client'),
    hostPublicKey,
    async dispose() {
      await execFileAsync('docker', ['image', 'rm', '-f', ref]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
