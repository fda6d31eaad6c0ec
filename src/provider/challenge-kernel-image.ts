// Gets the challenge kernel image onto this machine: present → nothing to do; else `docker pull`; else `docker build`
// from the Dockerfile shipped in the package (src/provider/challenge-kernel/), since nobody has to publish the image for a
// rig to answer challenges. One attempt per image per process at a time, shared by every challenge and GPU that needs it.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDockerCli, type DockerResult } from '../docker/exec.js';
import { ExternalError } from '../errors.js';

/** What happened on the way to the image, for the agent's log and the command's progress. */
export type KernelImageStep =
  | { state: 'pulling'; image: string }
  | { state: 'building'; image: string; context: string; command: string; pullError: string }
  | { state: 'build-progress'; image: string; line: string }
  | { state: 'ready'; image: string; source: 'pulled' | 'built'; ms: number };

export interface KernelImageOptions {
  image: string;
  dockerPath?: string;
  /** The folder `docker build` gets; default the Dockerfile shipped in the package (shippedKernelBuildContext()). */
  buildContext?: string;
  /** Extra environment for the docker CLI (tests: DOCKER_BUILDKIT=0, so a FROM of a local image never asks a registry). */
  dockerEnv?: Record<string, string>;
  /** Build without trying to pull first (no registry publishes the image). */
  skipPull?: boolean;
  signal?: AbortSignal;
  onStep?: (step: KernelImageStep) => void;
}

export interface KernelImageResult {
  image: string;
  source: 'present' | 'pulled' | 'built';
  ms: number;
  /** Why the pull failed, when the image had to be built. */
  pullError?: string;
  buildContext?: string;
}

const SHIPPED_CONTEXT = join('src', 'provider', 'challenge-kernel');

/**
 * The folder holding the shipped Dockerfile and kernel.py, searched upwards from this module: the package root is one
 * level above src/ under vitest and two above dist/src/ in the build (the CLI bundle keeps each module's location).
 */
export function shippedKernelBuildContext(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, SHIPPED_CONTEXT);
    if (existsSync(join(candidate, 'Dockerfile')) && existsSync(join(candidate, 'kernel.py'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/** The commands that prepare the image by hand, as shown in errors and hints. */
export function kernelImageCommands(image: string, context = shippedKernelBuildContext()): { pull: string; build: string } {
  return { pull: `docker pull ${image}`, build: `docker build -t ${image} ${context ?? '<the iocli package>/src/provider/challenge-kernel'}` };
}

export async function kernelImagePresent(image: string, options: { dockerPath?: string; signal?: AbortSignal } = {}): Promise<boolean> {
  const cli = createDockerCli({ dockerPath: options.dockerPath });
  return (await cli.call(['image', 'inspect', '--format', '{{.Id}}', image], { signal: options.signal })).exitCode === 0;
}

function lastLine(result: DockerResult): string {
  if (result.notInstalled) return 'the docker command was not found';
  if (result.cancelled) return 'cancelled';
  const lines = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !/^DEPRECATED:|^BuildKit is currently disabled|^environment-variable\.|^Install the buildx component/.test(line));
  const errorLine = lines.findLast((line) => /error|denied|failed|not found|unknown|refused|returned a non-zero/i.test(line));
  return (errorLine ?? lines.at(-1) ?? `exit code ${result.exitCode}`).replace(/^Error response from daemon: /, '');
}

// The attempt in flight per image, shared by every caller in this process; forgotten once settled, so a failed attempt
// is retried by the next challenge and a finished one is found by `image inspect`.
const inFlight = new Map<string, Promise<KernelImageResult>>();

/**
 * Makes `image` present: nothing if it is, else pull, else build from the shipped Dockerfile. Rejects with both causes
 * and the commands to run by hand when neither works.
 */
export async function ensureKernelImage(options: KernelImageOptions): Promise<KernelImageResult> {
  const { image } = options;
  const started = Date.now();
  if (await kernelImagePresent(image, options)) return { image, source: 'present', ms: Date.now() - started };
  let attempt = inFlight.get(image);
  if (!attempt) {
    attempt = pullOrBuild(options, started);
    inFlight.set(image, attempt);
    const forget = () => inFlight.delete(image);
    attempt.then(forget, forget);
  }
  return attempt;
}

async function pullOrBuild(options: KernelImageOptions, started: number): Promise<KernelImageResult> {
  const { image, signal, onStep } = options;
  const cli = createDockerCli({ dockerPath: options.dockerPath, env: options.dockerEnv });
  let pullError = 'not tried (--build)';
  if (!options.skipPull) {
    onStep?.({ state: 'pulling', image });
    const pulled = await cli.call(['pull', '--quiet', image], { timeoutMs: 0, signal });
    if (pulled.exitCode === 0 && !pulled.cancelled) {
      const ms = Date.now() - started;
      onStep?.({ state: 'ready', image, source: 'pulled', ms });
      return { image, source: 'pulled', ms };
    }
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('cancelled');
    pullError = lastLine(pulled);
  }
  const context = options.buildContext ?? shippedKernelBuildContext();
  const commands = kernelImageCommands(image, context);
  const byHand = `Prepare it by hand: \`${commands.build}\` (or \`${commands.pull}\` where a registry publishes it), or \`iocli provide kernel-image\`.`;
  if (!context) {
    throw new ExternalError(`could not pull the challenge kernel image ${image} (${pullError}) nor build it: the Dockerfile shipped with iocli (src/provider/challenge-kernel) was not found. ${byHand}`, {
      code: 'KERNEL_IMAGE_UNAVAILABLE',
      hint: 'Reinstall iocli (the package ships src/provider/challenge-kernel), then run: iocli provide kernel-image',
      details: { image, pullError },
    });
  }
  // --force-rm: a failed step's container is removed too (a rig retries on the next challenge; nothing piles up).
  const args = ['build', '--force-rm', '-t', image, context];
  onStep?.({ state: 'building', image, context, command: cli.describe(args), pullError });
  let pending = '';
  const onOutput = (text: string) => {
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    // The build's own steps (legacy builder "Step 2/6 : …", BuildKit "#5 [2/4] …"), not every line pip prints.
    for (const line of lines) if (/^Step \d+\/\d+ :|^#\d+ \[/.test(line.trim())) onStep?.({ state: 'build-progress', image, line: line.trim() });
  };
  const built = await cli.call(args, { timeoutMs: 0, signal, onStdout: onOutput, onStderr: onOutput });
  if (built.exitCode === 0 && !built.cancelled) {
    const ms = Date.now() - started;
    onStep?.({ state: 'ready', image, source: 'built', ms });
    return { image, source: 'built', ms, pullError, buildContext: context };
  }
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('cancelled');
  const buildError = lastLine(built);
  throw new ExternalError(`could not pull the challenge kernel image ${image} (${pullError}) nor build it from ${context} (${buildError}). ${byHand}`, {
    code: 'KERNEL_IMAGE_UNAVAILABLE',
    hint: `Run by hand to see the whole output: ${commands.build}`,
    command: cli.describe(args),
    stderr: built.stderr,
    details: { image, pullError, buildError, buildContext: context, commands },
  });
}
