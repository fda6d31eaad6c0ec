// An offline image of the challenge kernel (src/provider/challenge-kernel/kernel.py) built from the host's own python3 and
// numpy, like compat-image.ts builds sshd's: the interpreter, every file the kernel imported while answering a small
// challenge on the host, the shared libraries `ldd` names for each binary, then `docker import`. No registry involved.
import { execFile, spawn } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

import { dockerOk, docker } from './docker.js';

const execFileAsync = promisify(execFile);

export const KERNEL_SCRIPT = fileURLToPath(new URL('../../src/provider/challenge-kernel/kernel.py', import.meta.url));
/** Where the image keeps the kernel (as the real Dockerfile does). */
const KERNEL_IN_IMAGE = '/opt/iocli/kernel.py';

// Runs the kernel under runpy and records every module file it loaded, and the real interpreter path.
const LIST_IMPORTS = `
import json, os, runpy, sys
out, kernel = sys.argv[1], sys.argv[2]
sys.argv = [kernel]
try:
    runpy.run_path(kernel, run_name='__main__')
except SystemExit:
    pass
files = sorted({os.path.realpath(m.__file__) for m in list(sys.modules.values()) if getattr(m, '__file__', None)})
import sysconfig
with open(out, 'w') as f:
    json.dump({'executable': os.path.realpath(sys.executable), 'files': files, 'stdlib': sysconfig.get_paths()['stdlib'], 'dynload': sysconfig.get_paths()['platstdlib']}, f)
`;

/** Why the host cannot run the kernel with numpy (undefined: it can). */
export async function kernelUnavailable(python = 'python3'): Promise<string | undefined> {
  try {
    await execFileAsync(python, ['-c', 'import numpy'], { timeout: 30_000 });
    return undefined;
  } catch (error) {
    return `${python} with numpy is not available here (${(error as Error).message.split('\n')[0]}): install python3 and python3-numpy`;
  }
}

/** Runs the kernel on the host with the given stdin lines; resolves its stdout lines and exit code. */
export function runKernelOnHost(lines: readonly unknown[], args: readonly string[] = [], python = 'python3'): Promise<{ code: number | null; replies: Array<Record<string, unknown>>; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [KERNEL_SCRIPT, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, replies: stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), stderr }));
    child.stdin.end(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  });
}

async function sharedLibraries(binary: string): Promise<string[]> {
  const result = await execFileAsync('ldd', [binary]).catch(() => ({ stdout: '' }));
  const paths = new Set<string>();
  for (const line of result.stdout.split('\n')) {
    const match = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (match) paths.add(match[1]!);
  }
  return [...paths];
}

async function copyInto(root: string, hostPath: string, mode = 0o755): Promise<void> {
  const target = join(root, hostPath);
  await mkdir(dirname(target), { recursive: true });
  await copyFile(hostPath, target);
  await chmod(target, mode);
}

export interface KernelImage {
  ref: string;
  dispose(): Promise<void>;
}

/** Builds `iocli-test/challenge-kernel:<tag>`; the caller disposes of it. */
export async function buildKernelImage(tag: string, python = 'python3'): Promise<KernelImage> {
  const dir = await mkdtemp(join(tmpdir(), 'iocli-kernel-image-'));
  const root = join(dir, 'root');
  const ref = `iocli-test/challenge-kernel:${tag}`;
  try {
    const listing = join(dir, 'imports.json');
    await writeFile(join(dir, 'list.py'), LIST_IMPORTS);
    // A small challenge with openings, so every module the protocol needs is imported.
    const input = `${JSON.stringify({ seed: '0'.repeat(32), params: { n: 32, k: 16, batches: 1, leafEntries: 16, samples: 2 } })}\n${JSON.stringify({ samples: [0, 5] })}\n`;
    await new Promise<void>((resolve, reject) => {
      const child = spawn(python, [join(dir, 'list.py'), listing, KERNEL_SCRIPT], { stdio: ['pipe', 'ignore', 'inherit'] });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`listing the kernel's imports failed (${code})`))));
      child.stdin.end(input);
    });
    const found = JSON.parse(await readFile(listing, 'utf8')) as { executable: string; files: string[]; stdlib: string; dynload: string };
    for (const sub of ['tmp', 'proc', 'sys', 'dev', 'etc', dirname(KERNEL_IN_IMAGE).slice(1)]) await mkdir(join(root, sub), { recursive: true });
    await chmod(join(root, 'tmp'), 0o1777);
    // The interpreter finds its prefix by these landmarks.
    await mkdir(join(root, found.stdlib, 'lib-dynload'), { recursive: true });
    const binaries = [found.executable, ...found.files.filter((f) => /\.so(\.|$)/.test(f))];
    for (const file of [found.executable, ...found.files]) await copyInto(root, file, file === found.executable || /\.so/.test(file) ? 0o755 : 0o644);
    for (const binary of binaries) for (const lib of await sharedLibraries(binary)) await copyInto(root, lib);
    await copyInto(root, KERNEL_SCRIPT, 0o644);
    await mkdir(dirname(join(root, KERNEL_IN_IMAGE)), { recursive: true });
    await copyFile(KERNEL_SCRIPT, join(root, KERNEL_IN_IMAGE));
    await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
    const tar = join(dir, 'rootfs.tar');
    await execFileAsync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', tar, '.']);
    await dockerOk(['import', '--change', `ENTRYPOINT ${JSON.stringify([found.executable, KERNEL_IN_IMAGE])}`, tar, ref], 180_000);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return {
    ref,
    async dispose() {
      await docker(['image', 'rm', '-f', ref]);
    },
  };
}
