// What a renter asks a provider to run (image, argv, environment, ports), checked by one set of rules everywhere: the CLI
// before it quotes, the coordinator at quote and lease creation (before any payment), and the agent before it starts.
// Anything the node would refuse is refused here first, so a renter never pays for a workload that cannot start.
import { parseImageRef } from './image-ref.js';

export interface WorkloadSpec {
  image: string;
  /** argv for the container (no shell); absent = the image's default command. */
  command?: readonly string[];
  env?: Readonly<Record<string, string>>;
  ports?: readonly number[];
}

const WORKLOAD_LIMITS = {
  commandArgs: 256,
  argChars: 4096,
  envVars: 100,
  envNameChars: 256,
  envValueChars: 4096,
  ports: 32,
} as const;

/** POSIX-portable names: what `docker run --env` and every shell pass on. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface WorkloadProblem {
  /** Where, as a wire path: `image`, `command.2`, `env.NAME`, `ports.0`. */
  path: string;
  message: string;
}

const quoted = (text: string) => JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);

function argvProblem(text: unknown, max: number): string | undefined {
  if (typeof text !== 'string') return 'must be a string';
  // execve cannot carry NUL: docker would cut or refuse the argument on the node.
  if (text.includes('\u0000')) return 'contains a NUL character, which a process argument or environment value cannot hold';
  if (text.length > max) return `is longer than ${max} characters`;
  return undefined;
}

/** Every reason the workload cannot run on a node; empty when it can. Pure. */
export function workloadProblems(spec: WorkloadSpec): WorkloadProblem[] {
  const problems: WorkloadProblem[] = [];
  try {
    parseImageRef(spec.image);
  } catch (error) {
    problems.push({ path: 'image', message: (error as Error).message });
  }
  if (spec.command !== undefined) {
    if (spec.command.length > WORKLOAD_LIMITS.commandArgs) problems.push({ path: 'command', message: `The command has more than ${WORKLOAD_LIMITS.commandArgs} arguments.` });
    spec.command.forEach((arg, i) => {
      const problem = argvProblem(arg, WORKLOAD_LIMITS.argChars);
      if (problem) problems.push({ path: `command.${i}`, message: `Command argument ${i + 1} ${problem}.` });
    });
  }
  const env = Object.entries(spec.env ?? {});
  if (env.length > WORKLOAD_LIMITS.envVars) problems.push({ path: 'env', message: `There are more than ${WORKLOAD_LIMITS.envVars} environment variables.` });
  for (const [name, value] of env) {
    if (!ENV_NAME.test(name) || name.length > WORKLOAD_LIMITS.envNameChars) {
      problems.push({ path: `env.${name}`, message: `Environment variable name ${quoted(name)} must be letters, digits and _, not starting with a digit.` });
    }
    const problem = argvProblem(value, WORKLOAD_LIMITS.envValueChars);
    if (problem) problems.push({ path: `env.${name}`, message: `The value of environment variable ${quoted(name)} ${problem}.` });
  }
  const ports = spec.ports ?? [];
  if (ports.length > WORKLOAD_LIMITS.ports) problems.push({ path: 'ports', message: `There are more than ${WORKLOAD_LIMITS.ports} ports.` });
  ports.forEach((port, i) => {
    if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push({ path: `ports.${i}`, message: `Port ${String(port)} must be a whole number from 1 to 65535.` });
  });
  if (new Set(ports).size !== ports.length) problems.push({ path: 'ports', message: 'A port is listed twice.' });
  return problems;
}
