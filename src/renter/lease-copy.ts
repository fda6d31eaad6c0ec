// `iocli lease cp`: files and directories to and from a lease's container as a tar stream over one exec, so modes and
// directory trees survive and nothing is buffered whole. tar runs on both sides (the system's tar here, the image's tar
// or busybox's there); the exec's exit code and stderr say what went wrong remotely.
import { spawn } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { ExternalError, UserError } from '../errors.js';
import { execInLease, type RelayTarget } from './relay-client.js';

export { parseCpEndpoints, type CpEndpoints } from './parse.js';

/** A pass-through that counts (in transform, not with a 'data' listener, which would start the flow too early). */
function counter(onProgress?: (bytes: number) => void): Transform & { bytes: number } {
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      stream.bytes += chunk.length;
      onProgress?.(stream.bytes);
      done(null, chunk);
    },
  }) as Transform & { bytes: number };
  stream.bytes = 0;
  return stream;
}

function collect(limit = 64 * 1024): Writable & { text(): string } {
  const chunks: Buffer[] = [];
  let size = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (size < limit) chunks.push(chunk);
      size += chunk.length;
      done();
    },
  }) as Writable & { text(): string };
  sink.text = () => Buffer.concat(chunks).toString('utf8').trim();
  return sink;
}

function localTar(args: string[]) {
  const child = spawn('tar', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (c: Buffer) => stderr.push(c));
  const exited = new Promise<void>((resolveExit, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(new ExternalError(error.code === 'ENOENT' ? 'tar is not installed on this machine.' : `tar failed: ${error.message}`, { code: 'TAR_FAILED' })),
    );
    child.once('close', (code) => (code === 0 ? resolveExit() : reject(new ExternalError(`Local tar failed (exit ${code}): ${Buffer.concat(stderr).toString('utf8').trim()}`, { code: 'TAR_FAILED' }))));
  });
  return { child, exited };
}

// Remote scripts get paths as arguments ("$1"), never spliced into the script.
const EXTRACT_SCRIPT = 'mkdir -p "$1" && exec tar -xpf - -C "$1"';
const ARCHIVE_SCRIPT = '[ -e "$1" ] || { echo "$1: no such file or directory" >&2; exit 2; }; cd "$(dirname "$1")" && exec tar -cf - "$(basename "$1")"';

export async function copyToLease(options: RelayTarget & { localPath: string; remoteDir: string; onProgress?: (bytes: number) => void; signal?: AbortSignal }): Promise<{ bytes: number; destination: string }> {
  const source = resolve(options.localPath);
  await stat(source).catch(() => {
    throw new UserError(`${options.localPath} does not exist.`, { code: 'NOT_FOUND' });
  });
  const tar = localTar(['-C', dirname(source), '-cf', '-', basename(source)]);
  const counted = counter(options.onProgress);
  tar.child.stdout.pipe(counted);
  const remoteErrors = collect();
  const [exitCode] = await Promise.all([
    execInLease({ ...options, command: ['sh', '-c', EXTRACT_SCRIPT, 'sh', options.remoteDir], tty: false, stdin: counted, stdout: collect(), stderr: remoteErrors, signal: options.signal }),
    tar.exited,
  ]);
  if (exitCode !== 0) throw new UserError(`Extracting in the lease failed (exit ${exitCode}): ${remoteErrors.text() || 'no message'}`, { code: 'CP_FAILED' });
  return { bytes: counted.bytes, destination: `${options.leaseId}:${options.remoteDir.replace(/\/+$/, '')}/${basename(source)}` };
}

export async function copyFromLease(options: RelayTarget & { remotePath: string; localDir: string; onProgress?: (bytes: number) => void; signal?: AbortSignal }): Promise<{ bytes: number; destination: string }> {
  const destination = resolve(options.localDir);
  await mkdir(destination, { recursive: true });
  const tar = localTar(['-xpf', '-', '-C', destination]);
  const counted = counter(options.onProgress);
  counted.pipe(tar.child.stdin);
  const remoteErrors = collect();
  const exitCode = await execInLease({ ...options, command: ['sh', '-c', ARCHIVE_SCRIPT, 'sh', options.remotePath], tty: false, stdout: counted, stderr: remoteErrors, signal: options.signal });
  counted.end();
  if (exitCode !== 0) {
    tar.child.kill();
    await tar.exited.catch(() => {});
    throw new UserError(`Reading ${options.remotePath} in the lease failed (exit ${exitCode}): ${remoteErrors.text() || 'no message'}`, { code: 'CP_FAILED' });
  }
  await tar.exited;
  return { bytes: counted.bytes, destination: `${destination}/${basename(options.remotePath.replace(/\/+$/, '')) || '.'}` };
}
