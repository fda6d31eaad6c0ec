// Pull with progress against a real dockerd and a minimal registry on 127.0.0.1 (no registry is reachable here).
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, copyFile, chmod } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerRuntime, type PullProgress } from '../../src/docker/runtime.js';
import { createPullProgressParser, parseDockerSize } from '../../src/docker/pull-progress.js';
import { ExternalError } from '../../src/errors.js';
import { docker, ensureDocker } from '../support/docker.js';

const available = await ensureDocker();
const execFileAsync = promisify(execFile);

describe('pull progress parser (recorded docker pull output)', () => {
  it.each([
    ['512B', 512],
    ['1.5kB', 1500],
    ['2.31MB', 2_310_000],
    ['1GB', 1e9],
    ['3 MiB', 3 * 1024 * 1024],
    ['abc', undefined],
  ])('parseDockerSize(%s) = %s', (text, bytes) => {
    expect(parseDockerSize(text)).toBe(bytes);
  });

  it('follows layers through a pull, with and without byte counts', () => {
    const parser = createPullProgressParser();
    const lines = [
      '12.4.1-runtime-ubuntu22.04: Pulling from nvidia/cuda',
      'aece8493d397: Pulling fs layer',
      '9fe5ccccae45: Pulling fs layer',
      '9fe5ccccae45: Waiting',
      'aece8493d397: Downloading [=====>          ]  3.2MB/29.5MB',
      '\r\u001b[2Kaece8493d397: Downloading [==========>     ]  14.8MB/29.5MB',
      'aece8493d397: Verifying Checksum',
      'aece8493d397: Download complete',
      'aece8493d397: Extracting [==>               ]  1.1MB/29.5MB',
      'aece8493d397: Pull complete',
      '9fe5ccccae45: Already exists',
      '',
      `Digest: sha256:${'ab'.repeat(32)}`,
      'Status: Downloaded newer image for nvidia/cuda:12.4.1-runtime-ubuntu22.04',
      'docker.io/nvidia/cuda:12.4.1-runtime-ubuntu22.04',
    ];
    const events = lines.map((line) => parser.push(line));
    expect(events[0]).toMatchObject({ phase: 'resolving', layersTotal: 0 });
    expect(events[2]).toMatchObject({ phase: 'downloading', layersTotal: 2, layersDone: 0 });
    expect(events[4]).toMatchObject({ layer: 'aece8493d397', bytesDone: 3_200_000, bytesTotal: 29_500_000 });
    expect(events[5]).toMatchObject({ bytesDone: 14_800_000, line: 'aece8493d397: Downloading [==========>     ]  14.8MB/29.5MB' });
    expect(events[8]).toMatchObject({ phase: 'extracting' });
    expect(events[9]).toMatchObject({ layersDone: 1, bytesDone: 29_500_000 });
    expect(events[10]).toMatchObject({ layersDone: 2, layersTotal: 2 });
    expect(events[11]).toBeUndefined();
    expect(events[13]).toMatchObject({ phase: 'done', upToDate: false, digest: `sha256:${'ab'.repeat(32)}` });
    expect(events[14]).toMatchObject({ phase: 'done' });
  });

  it('recognises an image that is up to date', () => {
    const parser = createPullProgressParser();
    parser.push('latest: Pulling from library/busybox');
    expect(parser.push('Status: Image is up to date for busybox:latest')).toMatchObject({ phase: 'done', upToDate: true, layersTotal: 0 });
  });
});

interface Blob {
  digest: string;
  body: Buffer;
}

function blob(body: Buffer): Blob {
  return { digest: `sha256:${createHash('sha256').update(body).digest('hex')}`, body };
}

/** A read-only Docker registry (API v2, schema 2 manifests) serving one image under any name; `slow/` names stall blobs. */
async function startRegistry(layers: Buffer[]): Promise<{ server: Server; port: number; manifestDigest: string }> {
  const compressed = layers.map((tar) => blob(gzipSync(tar)));
  const config = blob(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
        rootfs: { type: 'layers', diff_ids: layers.map((tar) => blob(tar).digest) },
        history: layers.map(() => ({ created_by: 'iocli test registry' })),
      }),
    ),
  );
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.body.length, digest: config.digest },
        layers: compressed.map((layer) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.body.length, digest: layer.digest })),
      }),
    ),
  );
  const blobs = new Map([config, ...compressed].map((b) => [b.digest, b.body]));
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    const send = (status: number, body: Buffer, type: string, digest?: string) => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length, ...(digest ? { 'Docker-Content-Digest': digest } : {}) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (url === '/v2/' || url === '/v2') return send(200, Buffer.from('{}'), 'application/json');
    const manifestMatch = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url);
    if (manifestMatch) {
      if (manifestMatch[2] !== 'v1' && manifestMatch[2] !== manifest.digest) {
        return send(404, Buffer.from(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] })), 'application/json');
      }
      return send(200, manifest.body, 'application/vnd.docker.distribution.manifest.v2+json', manifest.digest);
    }
    const blobMatch = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url);
    if (blobMatch && blobs.has(blobMatch[2]!)) {
      // Hold layer downloads of slow/ names open so a pull can be cancelled mid-way.
      if (blobMatch[1]!.startsWith('slow/') && blobMatch[2] !== config.digest) return;
      return send(200, blobs.get(blobMatch[2]!)!, 'application/octet-stream', blobMatch[2]);
    }
    return send(404, Buffer.from('{"errors":[{"code":"NAME_UNKNOWN","message":"not found"}]}'), 'application/json');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, manifestDigest: manifest.digest };
}

describe.skipIf(!available)('docker pull via the runtime (real dockerd, registry on 127.0.0.1)', () => {
  const runId = randomUUID().slice(0, 8);
  const runtime = createDockerRuntime();
  let registry: Awaited<ReturnType<typeof startRegistry>> | undefined;
  // Serves a layer no earlier pull has, so docker must download it (and stalls there).
  let slowRegistry: Awaited<ReturnType<typeof startRegistry>> | undefined;
  let workDir = '';
  const pulled: string[] = [];

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'iocli-pull-test-'));
    const root = join(workDir, 'root');
    await mkdir(join(root, 'bin'), { recursive: true });
    await mkdir(join(root, 'tmp'));
    await chmod(join(root, 'tmp'), 0o1777);
    await copyFile('/bin/busybox', join(root, 'bin', 'busybox'));
    for (const applet of ['sh', 'echo', 'cat']) await symlink('busybox', join(root, 'bin', applet));
    await execFileAsync('tar', ['-C', root, '-cf', join(workDir, 'base.tar'), '.']);
    const extra = join(workDir, 'extra');
    await mkdir(join(extra, 'etc'), { recursive: true });
    await execFileAsync('sh', ['-c', `echo ${runId} > "$1"/etc/iocli-run`, 'sh', extra]);
    await execFileAsync('tar', ['-C', extra, '-cf', join(workDir, 'extra.tar'), '.']);
    registry = await startRegistry([await readFile(join(workDir, 'base.tar')), await readFile(join(workDir, 'extra.tar'))]);
    await execFileAsync('sh', ['-c', `echo slow-${runId} > "$1"/etc/iocli-run`, 'sh', extra]);
    await execFileAsync('tar', ['-C', extra, '-cf', join(workDir, 'slow.tar'), '.']);
    slowRegistry = await startRegistry([await readFile(join(workDir, 'slow.tar'))]);
  });

  afterAll(async () => {
    for (const r of [registry, slowRegistry]) {
      r?.server.closeAllConnections();
      r?.server.close();
    }
    if (pulled.length > 0) await docker(['rmi', '-f', ...pulled]);
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('pulls with progress events, then reports up to date, and the image runs', async () => {
    const ref = `127.0.0.1:${registry!.port}/iocli-test/pulled-${runId}:v1`;
    pulled.push(ref);
    expect(await runtime.imageExists(ref)).toBe(false);
    const events: PullProgress[] = [];
    const started = performance.now();
    await runtime.pull(ref, (progress) => events.push(progress));
    const pullMs = Math.round(performance.now() - started);
    process.stderr.write(`docker pull (2 layers, ~1 MB gzip) from 127.0.0.1: ${pullMs} ms, ${events.length} progress events\n`);
    expect(await runtime.imageExists(ref)).toBe(true);
    const last = events.at(-1)!;
    expect(events.some((e) => e.phase === 'downloading' || e.phase === 'extracting')).toBe(true);
    expect(events.find((e) => e.phase === 'done')).toMatchObject({ upToDate: false, digest: registry!.manifestDigest, layersTotal: 2, layersDone: 2 });
    expect(last.phase).toBe('done');

    const again: PullProgress[] = [];
    await runtime.pull(ref, (progress) => again.push(progress));
    expect(again.some((e) => e.upToDate)).toBe(true);

    const out = await docker(['run', '--rm', '--network', 'none', ref, 'cat', '/etc/iocli-run']);
    expect(out.stdout.trim()).toBe(runId);
  });

  it('a missing tag is an ExternalError with the command and a hint', async () => {
    const ref = `127.0.0.1:${registry!.port}/iocli-test/pulled-${runId}:absent`;
    const error = await runtime.pull(ref).then(
      () => undefined,
      (e: unknown) => e as ExternalError,
    );
    expect(error).toBeInstanceOf(ExternalError);
    expect(['IMAGE_PULL_DENIED', 'IMAGE_PULL_FAILED']).toContain(error!.code);
    expect(error!.command).toBe(`docker pull ${ref}`);
    expect(error!.hint).toBeTruthy();
  });

  it('an invalid reference never reaches docker', async () => {
    await expect(runtime.pull('--all-tags')).rejects.toMatchObject({ code: 'IMAGE_REF_INVALID' });
    await expect(runtime.pull('busybox;id')).rejects.toMatchObject({ code: 'IMAGE_REF_INVALID' });
  });

  it('a pull can be cancelled with an AbortSignal', async () => {
    const ref = `127.0.0.1:${slowRegistry!.port}/slow/pulled-${runId}:v1`;
    pulled.push(ref);
    const controller = new AbortController();
    const events: PullProgress[] = [];
    const pulling = runtime.pull(ref, (progress) => {
      events.push(progress);
      if (progress.layersTotal > 0) controller.abort();
    }, controller.signal);
    const timer = setTimeout(() => controller.abort(), 10_000);
    await expect(pulling).rejects.toMatchObject({ code: 'PULL_CANCELLED' });
    clearTimeout(timer);
    expect(events.length).toBeGreaterThan(0);
  });
});
