// Runs the docker CLI with argument arrays (never a shell) and turns its failures into ExternalErrors with hints.

import { ExternalError } from '../errors.js';

/** Where the docker CLI is and which daemon it talks to; tests point these elsewhere. */
export interface DockerCliOptions {
  /** The docker binary; default `docker` from PATH. */
  dockerPath?: string;
  /** Sets DOCKER_HOST for every call, e.g. `unix:///run/user/1000/docker.sock`. */
  dockerHost?: string;
  /** Extra environment for the docker CLI. */
  env?: Record<string, string>;
  /** Limit for short commands (not pull, not logs --follow); default 120 s. */
  commandTimeoutMs?: number;
}

export interface DockerCallOptions {
  /** Default: the CLI's commandTimeoutMs; 0 = none (pull, follow). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** How streamed output is decoded: utf8 (default) or latin1, one character per byte (exact bytes for binary output). */
  encoding?: 'utf8' | 'latin1';
  /** Called with each decoded chunk as it arrives (the full output is still returned). */
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
}

export interface DockerResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The spawn failed because the binary does not exist. */
  notInstalled: boolean;
  timedOut: boolean;
  cancelled: boolean;
}

export interface DockerCli {
  /** Runs `docker ...args`; never throws for a non-zero exit (see `check`). */
  call(args: readonly string[], options?: DockerCallOptions): Promise<DockerResult>;
  /** Runs and throws ExternalError on any failure; returns stdout. */
  check(args: readonly string[], options?: DockerCallOptions): Promise<string>;
  /** `docker …` as shown to people, with environment values redacted. */
  describe(args: readonly string[]): string;
}

export const HINT_INSTALL_DOCKER = 'Install Docker: sudo apt-get install -y docker.io (other systems: https://docs.docker.com/engine/install/)';
export const HINT_START_DOCKER = 'Start the Docker daemon: sudo systemctl start docker';
export const HINT_DOCKER_PERMISSION = 'Give your user access to Docker: sudo usermod -aG docker "$USER", then log in again (or run as root)';
export const HINT_NVIDIA_TOOLKIT =
  'Install the NVIDIA Container Toolkit (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html), ' +
  'then run: sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker';

/** Redacts `--env KEY=VALUE` values: they may hold the renter's secrets. */
export function describeDockerCommand(binary: string, args: readonly string[]): string {
  const shown = args.map((arg, i) => {
    if ((args[i - 1] === '--env' || args[i - 1] === '-e') && arg.includes('=')) return `${arg.slice(0, arg.indexOf('='))}=***`;
    return /^[A-Za-z0-9_./:=,@+-]+$/.test(arg) ? arg : JSON.stringify(arg);
  });
  return [binary, ...shown].join(' ');
}

/** Classifies docker's stderr into a stable code and what to do about it. */
export function classifyDockerFailure(stderr: string): { code: string; hint?: string } {
  if (/Cannot connect to the Docker daemon|Is the docker daemon running|error during connect/i.test(stderr)) {
    return { code: 'DOCKER_DAEMON_UNREACHABLE', hint: HINT_START_DOCKER };
  }
  if (/permission denied.*docker(\.sock|d)?/i.test(stderr)) return { code: 'DOCKER_PERMISSION_DENIED', hint: HINT_DOCKER_PERMISSION };
  if (/could not select device driver .*gpu|nvidia-container-cli|unknown or invalid runtime name: nvidia/i.test(stderr)) {
    return { code: 'DOCKER_NO_GPU_RUNTIME', hint: HINT_NVIDIA_TOOLKIT };
  }
  if (/No such image/i.test(stderr)) return { code: 'IMAGE_NOT_FOUND', hint: 'Pull the image first (the agent pulls before it runs).' };
  if (/No such (container|object)/i.test(stderr)) return { code: 'CONTAINER_NOT_FOUND' };
  if (/is already in use by container/i.test(stderr)) {
    return { code: 'CONTAINER_NAME_IN_USE', hint: 'A container with this name exists: adopt it or remove it first.' };
  }
  if (/pull access denied|manifest unknown|not found: manifest|repository does not exist|unauthorized/i.test(stderr)) {
    return { code: 'IMAGE_PULL_DENIED', hint: 'Check the image name and tag, and `docker login` to the registry if it is private.' };
  }
  return { code: 'DOCKER_FAILED' };
}

/** Last meaningful line of docker's stderr, without its usage footer. */
function stderrSummary(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !/^Run '.*--help' for more information/.test(line) && !/^See '.*--help'/.test(line));
  return (lines.at(-1) ?? '').replace(/^docker: /, '').replace(/^Error response from daemon: /, '');
}

const STREAM_TAIL_CHARS = 16 * 1024;

export function createDockerCli(options: DockerCliOptions = {}): DockerCli {
  const binary = options.dockerPath ?? 'docker';
  const env: Record<string, string> = { DOCKER_CLI_HINTS: 'false', ...options.env };
  if (options.dockerHost !== undefined) env.DOCKER_HOST = options.dockerHost;
  const defaultTimeout = options.commandTimeoutMs ?? 120_000;
  // execa costs ~170 ms to import: load it on first use, once per CLI instance.
  let execaModule: Promise<typeof import('execa')> | undefined;

  const describe = (args: readonly string[]) => describeDockerCommand(binary, args);

  async function call(args: readonly string[], callOptions: DockerCallOptions = {}): Promise<DockerResult> {
    execaModule ??= import('execa');
    const { execa } = await execaModule;
    const timeout = callOptions.timeoutMs ?? defaultTimeout;
    // Streamed output (logs --follow, pull) is not buffered without bound: keep only its tail for error messages.
    const streamedOut = callOptions.onStdout !== undefined;
    const streamedErr = callOptions.onStderr !== undefined;
    const subprocess = execa(binary, [...args], {
      env,
      reject: false,
      stdin: 'ignore',
      encoding: 'utf8',
      stripFinalNewline: false,
      buffer: { stdout: !streamedOut, stderr: !streamedErr },
      ...(timeout > 0 ? { timeout } : {}),
      ...(callOptions.signal ? { cancelSignal: callOptions.signal } : {}),
    });
    let outTail = '';
    let errTail = '';
    subprocess.stdout?.setEncoding(callOptions.encoding ?? 'utf8');
    subprocess.stderr?.setEncoding(callOptions.encoding ?? 'utf8');
    if (streamedOut) {
      subprocess.stdout?.on('data', (text: string) => {
        outTail = (outTail + text).slice(-STREAM_TAIL_CHARS);
        callOptions.onStdout!(text);
      });
    }
    if (streamedErr) {
      subprocess.stderr?.on('data', (text: string) => {
        errTail = (errTail + text).slice(-STREAM_TAIL_CHARS);
        callOptions.onStderr!(text);
      });
    }
    const result = await subprocess;
    const cause = (result as { cause?: { code?: string } }).cause;
    const notInstalled = (result as { code?: string }).code === 'ENOENT' || cause?.code === 'ENOENT';
    return {
      exitCode: result.exitCode ?? -1,
      stdout: streamedOut ? outTail : typeof result.stdout === 'string' ? result.stdout : '',
      stderr: streamedErr ? errTail : typeof result.stderr === 'string' ? result.stderr : '',
      notInstalled,
      timedOut: result.timedOut === true,
      cancelled: result.isCanceled === true,
    };
  }

  async function check(args: readonly string[], callOptions: DockerCallOptions = {}): Promise<string> {
    const result = await call(args, callOptions);
    if (result.exitCode === 0 && !result.notInstalled && !result.timedOut && !result.cancelled) return result.stdout;
    throw toExternalError(describe(args), result);
  }

  return { call, check, describe };
}

/** The ExternalError for a failed docker call. */
export function toExternalError(command: string, result: DockerResult): ExternalError {
  if (result.notInstalled) {
    return new ExternalError('Docker is not installed (the docker command was not found).', {
      code: 'DOCKER_NOT_INSTALLED',
      hint: HINT_INSTALL_DOCKER,
      command,
    });
  }
  if (result.timedOut) {
    return new ExternalError(`Docker did not answer in time: ${command}`, {
      code: 'DOCKER_TIMEOUT',
      hint: 'Check the daemon: docker info (restart it with sudo systemctl restart docker if it hangs).',
      command,
      stderr: result.stderr,
    });
  }
  const { code, hint } = classifyDockerFailure(result.stderr);
  const summary = stderrSummary(result.stderr) || `exit code ${result.exitCode}`;
  return new ExternalError(`Docker failed: ${summary}`, {
    code,
    hint: hint ?? `Run it by hand to see more: ${command}`,
    command,
    stderr: result.stderr,
    details: { exitCode: result.exitCode },
  });
}
