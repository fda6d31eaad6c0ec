// Images on this node's Docker daemon: whether one is there, and pulling one with its progress reported line by line.

import { parseImageRef } from '../domain/image-ref.js';
import { ExternalError, UserError } from '../errors.js';
import { toExternalError, type DockerCli } from './exec.js';
import { createPullProgressParser, type PullProgress } from './pull-progress.js';

export async function imageExists(cli: DockerCli, ref: string): Promise<boolean> {
  const image = parseImageRef(ref).raw;
  const args = ['image', 'inspect', '--format', '{{.Id}}', image];
  const result = await cli.call(args);
  if (result.exitCode === 0 && !result.notInstalled) return true;
  if (/No such image/i.test(result.stderr)) return false;
  throw toExternalError(cli.describe(args), result);
}

/** `docker pull` without a time limit; a failure to pull becomes IMAGE_PULL_FAILED with a hint, an abort PULL_CANCELLED. */
export async function pullImage(cli: DockerCli, ref: string, onProgress?: (progress: PullProgress) => void, signal?: AbortSignal): Promise<void> {
  const image = parseImageRef(ref).raw;
  const parser = createPullProgressParser();
  let pending = '';
  const onStdout = (text: string) => {
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const progress = parser.push(line);
      if (progress && onProgress) onProgress(progress);
    }
  };
  const args = ['pull', image];
  const result = await cli.call(args, { timeoutMs: 0, signal, onStdout });
  if (pending) {
    const progress = parser.push(pending);
    if (progress && onProgress) onProgress(progress);
  }
  if (result.cancelled) throw new UserError(`Pull of ${image} was cancelled.`, { code: 'PULL_CANCELLED' });
  if (result.exitCode !== 0 || result.notInstalled) {
    const error = toExternalError(cli.describe(args), result);
    if (error.code !== 'DOCKER_FAILED') throw error;
    throw new ExternalError(`Could not pull ${image}: ${error.message.replace(/^Docker failed: /, '')}`, {
      code: 'IMAGE_PULL_FAILED',
      hint: 'Check the image name, that the registry is reachable, and `docker login` if it is private.',
      command: error.command,
      stderr: error.stderr,
    });
  }
}
