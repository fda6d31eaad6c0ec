// A liveness probe checked inside the lease's container (src/coordinator/evidence.ts): the coordinator runs a command
// with a fresh nonce through the relay — the path a renter's `lease exec` takes — and judges what came back.
// What a pass shows: within the deadline, the agent's relay link was up, a process could be started in the container
// Docker labels as this lease's, and it printed this probe's nonce (no answer can be prepared or replayed). What it does
// not show: an agent modified by its owner controls the rig and can answer anything (README: threat model).

/** How the coordinator's exec ended (src/coordinator/relay.ts RelayExecOutcome). */
export interface ProbeExecOutcome {
  status: { exitCode?: number; error?: string; code?: string };
  stdout: string;
  stderr: string;
}

export type ProbeVerdict = { verdict: 'pass'; note?: string } | { verdict: 'fail'; detail: string } | { verdict: 'retry'; detail: string };

/** The command run in the container: POSIX sh only (a builtin printf), so any image with a shell can answer. */
export function probeCommand(nonce: string): string[] {
  return ['sh', '-c', 'printf "iocli-probe %s\\n" "$0"', nonce];
}

export function expectedProbeOutput(nonce: string): string {
  return `iocli-probe ${nonce}\n`;
}

/** Stream ends that say nothing about the container: the link or this coordinator went away mid-check. */
const INCONCLUSIVE = new Set(['AGENT_GONE', 'COORDINATOR_GONE']);

/** Judge one lease's answer. null: this replica holds no relay link to the node (another may; the deadline decides). */
export function judgeProbeExec(nonce: string, outcome: ProbeExecOutcome | null): ProbeVerdict {
  if (!outcome) return { verdict: 'retry', detail: 'no relay link from the agent on this coordinator' };
  const { status, stdout, stderr } = outcome;
  if (status.code && INCONCLUSIVE.has(status.code)) return { verdict: 'retry', detail: status.error ?? status.code };
  if (status.exitCode === undefined) return { verdict: 'fail', detail: `the exec in the container failed: ${status.error ?? 'no exit code'}${status.code ? ` (${status.code})` : ''}` };
  if (status.exitCode === 0) {
    return stdout === expectedProbeOutput(nonce) ? { verdict: 'pass' } : { verdict: 'fail', detail: `the container answered ${JSON.stringify(stdout.slice(0, 80))}, not this probe's nonce` };
  }
  // An image without a shell (distroless, scratch): the container runtime entered the container and found no `sh`.
  // The container exists and runs; the renter chose the image, so the provider is not penalised for it.
  if (status.exitCode === 127 && stderr.startsWith('OCI runtime exec failed')) return { verdict: 'pass', note: 'no shell in the image: the container runtime entered the container' };
  return { verdict: 'fail', detail: `the probe command exited with ${status.exitCode}${stderr ? `: ${stderr.slice(0, 120).trim()}` : ''}` };
}
