import { describe, expect, it } from 'vitest';
import { expectedProbeOutput, judgeProbeExec, probeCommand, type ProbeExecOutcome } from '../../src/domain/probe-check.js';

const NONCE = '0f'.repeat(16);
const exec = (status: ProbeExecOutcome['status'], stdout = '', stderr = ''): ProbeExecOutcome => ({ status, stdout, stderr });

describe('judging a liveness probe answered from inside the container', () => {
  it.each<[string, ProbeExecOutcome | null, string, string?]>([
    ['the nonce, exit 0', exec({ exitCode: 0 }, expectedProbeOutput(NONCE)), 'pass'],
    ['another nonce', exec({ exitCode: 0 }, expectedProbeOutput('1'.repeat(32))), 'fail', 'not this probe'],
    ['nothing printed', exec({ exitCode: 0 }), 'fail', 'not this probe'],
    ['the nonce without its prefix', exec({ exitCode: 0 }, `${NONCE}\n`), 'fail', 'not this probe'],
    ['no shell in the image (runtime entered the container)', exec({ exitCode: 127 }, '', 'OCI runtime exec failed: exec failed: unable to start container process: exec: "sh": executable file not found in $PATH'), 'pass'],
    ['127 from a shell, not the runtime', exec({ exitCode: 127 }, '', 'sh: printf: not found'), 'fail', 'exited with 127'],
    ['a non-zero exit', exec({ exitCode: 1 }, expectedProbeOutput(NONCE)), 'fail', 'exited with 1'],
    ['no container for the lease', exec({ error: 'Lease l has no running container on this node.', code: 'LEASE_NOT_RUNNING_HERE' }), 'fail', 'LEASE_NOT_RUNNING_HERE'],
    ['no answer in time', exec({ error: 'No answer within 1000 ms.', code: 'TIMEOUT' }), 'fail', 'TIMEOUT'],
    ['the agent dropped its link mid-check', exec({ error: 'disconnected', code: 'AGENT_GONE' }), 'retry'],
    ['this coordinator shutting down', exec({ error: 'shutting down', code: 'COORDINATOR_GONE' }), 'retry'],
    ['no relay link on this replica', null, 'retry', 'no relay link'],
  ])('%s → %s', (_name, outcome, verdict, detail) => {
    const judged = judgeProbeExec(NONCE, outcome);
    expect(judged.verdict).toBe(verdict);
    if (detail) expect('detail' in judged ? judged.detail : '').toContain(detail);
  });

  it('runs POSIX sh with the nonce as $0 (nothing interpolated into the script)', () => {
    expect(probeCommand(NONCE)).toEqual(['sh', '-c', 'printf "iocli-probe %s\\n" "$0"', NONCE]);
  });
});
