// A small workload image for the demo and tests that works offline: a local busybox image, a pull when a registry is
// reachable, or one built with `docker import` from a statically linked busybox on the host.
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { DockerCli } from './exec.js';

export const OFFLINE_IMAGE = 'iocli-demo/busybox:latest';
const APPLETS = ['sh', 'echo', 'sleep', 'cat', 'ls', 'mount', 'id', 'touch', 'httpd', 'wc', 'head', 'date', 'true', 'false', 'seq', 'uname', 'nproc'];

export async function imagePresent(cli: DockerCli, ref: string): Promise<boolean> {
  return (await cli.call(['image', 'inspect', '--format', '{{.Id}}', ref])).exitCode === 0;
}

/** Builds `ref` from a static busybox binary: one layer, /bin with applet links, a 1777 /tmp, minimal passwd/group. */
export async function buildBusyboxImage(cli: DockerCli, ref: string, busybox = '/bin/busybox'): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'iocli-image-'));
  try {
    const root = join(dir, 'root');
    for (const sub of ['bin', 'tmp', 'mnt', 'etc', 'proc', 'sys', 'dev']) await mkdir(join(root, sub), { recursive: true });
    try {
      await copyFile(busybox, join(root, 'bin', 'busybox'));
    } catch {
      throw new UserError(`Cannot build the offline workload image: ${busybox} is missing.`, {
        hint: 'Install a static busybox (Debian/Ubuntu: sudo apt-get install -y busybox-static), or make any image available and pass --image.',
      });
    }
    await chmod(join(root, 'tmp'), 0o1777);
    for (const applet of APPLETS) await symlink('busybox', join(root, 'bin', applet));
    await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
    await writeFile(join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
    const tar = join(dir, 'rootfs.tar');
    const { execa } = await import('execa');
    await execa('tar', ['-C', root, '-cf', tar, '.']);
    await cli.check(['import', '--change', 'ENV PATH=/bin', '--change', 'CMD ["/bin/sh"]', tar, ref], { timeoutMs: 120_000 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** busybox:latest if present or pullable, else the offline build. Returns the image reference to run. */
export async function ensureWorkloadImage(cli: DockerCli, onStep: (text: string) => void = () => {}): Promise<string> {
  for (const ref of ['busybox:latest', OFFLINE_IMAGE]) if (await imagePresent(cli, ref)) return ref;
  onStep('Pulling busybox:latest');
  if ((await cli.call(['pull', 'busybox:latest'], { timeoutMs: 60_000 })).exitCode === 0) return 'busybox:latest';
  onStep(`No registry reachable: building ${OFFLINE_IMAGE} from the host's static busybox`);
  await buildBusyboxImage(cli, OFFLINE_IMAGE);
  return OFFLINE_IMAGE;
}
