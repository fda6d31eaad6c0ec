// Checks that Docker can run lease containers here, and says exactly how to fix what is missing.

import {
  classifyDockerFailure,
  HINT_DOCKER_PERMISSION,
  HINT_INSTALL_DOCKER,
  HINT_NVIDIA_TOOLKIT,
  HINT_START_DOCKER,
  type DockerCli,
} from './exec.js';

export interface PreflightProblem {
  code: 'DOCKER_NOT_INSTALLED' | 'DOCKER_DAEMON_UNREACHABLE' | 'DOCKER_PERMISSION_DENIED' | 'NVIDIA_RUNTIME_MISSING';
  message: string;
  hint: string;
  /** False for problems that only matter with real GPUs (simulated GPUs still work). */
  blocking: boolean;
}

export interface DockerPreflight {
  /** Docker is installed and the daemon answers: containers can run. */
  ok: boolean;
  dockerInstalled: boolean;
  clientVersion: string | null;
  daemonReachable: boolean;
  serverVersion: string | null;
  apiVersion: string | null;
  /** Runtime names from `docker info` (e.g. runc, nvidia). */
  runtimes: string[];
  /** The daemon has an `nvidia` runtime registered (what `nvidia-ctk runtime configure --runtime=docker` does). */
  nvidiaRuntime: boolean;
  /** `docker info`'s SecurityOptions, e.g. name=seccomp,profile=default, name=userns, name=rootless. */
  securityOptions?: string[];
  problems: PreflightProblem[];
}

interface VersionJson {
  Client?: { Version?: string; ApiVersion?: string } | null;
  Server?: { Version?: string; ApiVersion?: string; Components?: Array<{ Name?: string; Version?: string }> } | null;
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

export async function runPreflight(cli: DockerCli): Promise<DockerPreflight> {
  const result: DockerPreflight = {
    ok: false,
    dockerInstalled: false,
    clientVersion: null,
    daemonReachable: false,
    serverVersion: null,
    apiVersion: null,
    runtimes: [],
    nvidiaRuntime: false,
    problems: [],
  };

  const version = await cli.call(['version', '--format', '{{json .}}'], { timeoutMs: 20_000 });
  if (version.notInstalled) {
    result.problems.push({ code: 'DOCKER_NOT_INSTALLED', message: 'Docker is not installed.', hint: HINT_INSTALL_DOCKER, blocking: true });
    return result;
  }
  result.dockerInstalled = true;
  const parsed = parseJson<VersionJson>(version.stdout.trim());
  result.clientVersion = parsed?.Client?.Version ?? null;
  const server = parsed?.Server;
  if (version.exitCode !== 0 || !server) {
    const { code } = classifyDockerFailure(version.stderr);
    const reason = version.stderr.trim().split('\n').at(-1) ?? '';
    if (code === 'DOCKER_PERMISSION_DENIED') {
      result.problems.push({ code, message: `No permission to use the Docker daemon: ${reason}`, hint: HINT_DOCKER_PERMISSION, blocking: true });
    } else {
      result.problems.push({
        code: 'DOCKER_DAEMON_UNREACHABLE',
        message: `The Docker daemon is not reachable${reason ? `: ${reason}` : '.'}`,
        hint: HINT_START_DOCKER,
        blocking: true,
      });
    }
    return result;
  }
  result.daemonReachable = true;
  result.serverVersion = server.Version ?? server.Components?.find((c) => c.Name === 'Engine')?.Version ?? null;
  result.apiVersion = server.ApiVersion ?? null;
  result.ok = true;

  const info = await cli.call(['info', '--format', '{{json .Runtimes}}'], { timeoutMs: 20_000 });
  const runtimes = info.exitCode === 0 ? parseJson<Record<string, unknown> | null>(info.stdout.trim()) : undefined;
  result.runtimes = Object.keys(runtimes ?? {}).sort();
  result.nvidiaRuntime = result.runtimes.includes('nvidia');
  const security = await cli.call(['info', '--format', '{{json .SecurityOptions}}'], { timeoutMs: 20_000 });
  const options = security.exitCode === 0 ? parseJson<unknown>(security.stdout.trim()) : undefined;
  result.securityOptions = Array.isArray(options) ? options.filter((o): o is string => typeof o === 'string') : [];
  if (!result.nvidiaRuntime) {
    result.problems.push({
      code: 'NVIDIA_RUNTIME_MISSING',
      message: 'Docker has no NVIDIA runtime: containers cannot use GPUs (simulated GPUs still work).',
      hint: HINT_NVIDIA_TOOLKIT,
      blocking: false,
    });
  }
  return result;
}
