// Test helpers for a real Docker engine: start the daemon if needed, build the offline busybox image, clean up by label.

import { execFile, spawn } from 'node:child_process';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { createDockerCli } from '../../src/docker/exec.js';
import { buildBusyboxImage, imagePresent } from '../../src/docker/offline-image.js';

const execFileAsync = promisify(execFile);

export const TEST_IMAGE = 'iocli-test/busybox:latest';
// One lock for starting dockerd and building the image: test files run in parallel workers.
const LOCK_DIR = join(tmpdir(), 'iocli-test-docker.lock');
const STALE_LOCK_MS = 120_000;

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `docker ...args` (no shell); never throws for a non-zero exit. */
export async function docker(args: string[], timeoutMs = 60_000): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await execFileAsync('docker', args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(error) };
  }
}

/** Runs `docker ...args` and throws on failure; returns stdout. */
export async function dockerOk(args: string[], timeoutMs?: number): Promise<string> {
  const result = await docker(args, timeoutMs);
  if (result.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/** `docker inspect` of one container, parsed. */
export async function dockerInspect(id: string): Promise<any> {
  return (JSON.parse(await dockerOk(['container', 'inspect', id])) as any[])[0];
}

/**
 * Force-removes every container carrying `label` (key=value), then the networks carrying it (lease networks are labelled
 * like their containers). Safe to call in afterAll after a failure.
 */
export async function removeContainersByLabel(label: string): Promise<number> {
  const ids = (await docker(['ps', '-aq', '--no-trunc', '--filter', `label=${label}`])).stdout.split('\n').filter(Boolean);
  if (ids.length > 0) await docker(['rm', '-f', ...ids]);
  const networks = (await docker(['network', 'ls', '-q', '--filter', `label=${label}`])).stdout.split('\n').filter(Boolean);
  if (networks.length > 0) await docker(['network', 'rm', ...networks]);
  return ids.length;
}

async function binaryExists(name: string): Promise<boolean> {
  try {
    await execFileAsync(name, ['--version'], { timeout: 20_000 });
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code !== 'ENOENT';
  }
}

async function daemonAnswers(): Promise<boolean> {
  return (await docker(['info', '--format', '{{.ServerVersion}}'], 20_000)).code === 0;
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      await mkdir(LOCK_DIR);
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
      // A holder that crashed leaves the directory behind.
      const age = await stat(LOCK_DIR).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > STALE_LOCK_MS) await rm(LOCK_DIR, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${LOCK_DIR}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(LOCK_DIR, { recursive: true, force: true });
  }
}

let warned = false;

/**
 * Makes sure a Docker daemon answers. Returns false (tests skip) only when the docker CLI is not installed;
 * when it is installed but the daemon is down, starts dockerd the way NOTES.md says and waits for it.
 * The daemon is shared infrastructure and is left running afterwards.
 */
export async function ensureDocker(): Promise<boolean> {
  if (!(await binaryExists('docker'))) {
    if (!warned) process.stderr.write('Skipping Docker tests: the docker CLI is not installed (run .ci/start-docker.sh).\n');
    warned = true;
    return false;
  }
  if (await daemonAnswers()) return true;
  await withLock(async () => {
    if (await daemonAnswers()) return;
    if (!(await binaryExists('dockerd'))) {
      throw new Error('docker is installed but dockerd is not and no daemon answers: run .ci/start-docker.sh (apt-get install -y docker.io).');
    }
    const log = await open('/var/log/dockerd.log', 'a');
    const child = spawn('dockerd', ['--iptables=false', '--bridge=none'], { detached: true, stdio: ['ignore', log.fd, log.fd] });
    child.unref();
    await log.close();
    const deadline = Date.now() + 60_000;
    while (!(await daemonAnswers())) {
      if (child.exitCode !== null) throw new Error(`dockerd exited with ${child.exitCode}; see /var/log/dockerd.log`);
      if (Date.now() > deadline) throw new Error('dockerd did not answer within 60 s; see /var/log/dockerd.log');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  });
  return true;
}

/** Builds `iocli-test/busybox:latest` offline from busybox-static (idempotent, safe to call from parallel files). */
export async function ensureTestImage(): Promise<string> {
  const cli = createDockerCli();
  if (await imagePresent(cli, TEST_IMAGE)) return TEST_IMAGE;
  await withLock(async () => {
    if (!(await imagePresent(cli, TEST_IMAGE))) await buildBusyboxImage(cli, TEST_IMAGE);
  });
  return TEST_IMAGE;
}
