import { describe, expect, it } from 'vitest';
import { buildKernelRunArgs, LABEL_CHALLENGE, type KernelRunSpec } from '../../src/domain/challenge-kernel-args.js';

const SPEC: KernelRunSpec = {
  image: 'ghcr.io/iocli/challenge-kernel:0.1.0',
  nodeId: 'node_1',
  challengeId: 'chal_1',
  gpuUuid: 'GPU-8f0c6a2e-1111-2222-3333-444455556666',
  gpuFlag: true,
  memoryBytes: 8 * 1024 ** 3,
  cpus: 1,
  name: 'iocli-challenge-chal_1-0',
};

const flagValues = (args: string[], flag: string) => args.flatMap((arg, i) => (args[i - 1] === flag ? [arg] : []));

describe('buildKernelRunArgs', () => {
  it('attaches stdin, removes the container, and locks it down: no network, no capabilities, read-only, nobody', () => {
    const args = buildKernelRunArgs(SPEC);
    expect(args.slice(0, 3)).toEqual(['run', '-i', '--rm']);
    expect(flagValues(args, '--network')).toEqual(['none']);
    expect(flagValues(args, '--cap-drop')).toEqual(['ALL']);
    expect(args).not.toContain('--cap-add');
    expect(args).not.toContain('--privileged');
    expect(args).toContain('--read-only');
    expect(flagValues(args, '--security-opt')).toEqual(['no-new-privileges']);
    expect(flagValues(args, '--user')).toEqual(['65534:65534']);
    expect(flagValues(args, '--pull')).toEqual(['never']);
    expect(flagValues(args, '--label')).toEqual([`${LABEL_CHALLENGE}=chal_1`, 'iocli.node=node_1']);
    // Never iocli.managed: the lease reconciler must not adopt (or stop) a challenge container.
    expect(flagValues(args, '--label').some((l) => l.startsWith('iocli.managed'))).toBe(false);
    expect(args.at(-1)).toBe(SPEC.image);
  });

  it.each([
    ['the challenged GPU only', true, ['"device=GPU-8f0c6a2e-1111-2222-3333-444455556666"']],
    ['no --gpus where there is no NVIDIA runtime (tests)', false, []],
  ])('--gpus: %s', (_name, gpuFlag, expected) => {
    expect(flagValues(buildKernelRunArgs({ ...SPEC, gpuFlag }), '--gpus')).toEqual(expected);
  });

  it.each([
    ['a GPU UUID with a comma (would widen --gpus)', { gpuUuid: 'GPU-a,GPU-b' }],
    ['a GPU UUID that is not one', { gpuUuid: 'all' }],
    ['a node id with a space', { nodeId: 'node 1' }],
    ['a challenge id with a slash', { challengeId: 'chal/1' }],
    ['an image reference with a space', { image: 'bad image' }],
    ['too little memory', { memoryBytes: 1024 }],
  ])('refuses %s', (_name, override) => {
    expect(() => buildKernelRunArgs({ ...SPEC, ...override })).toThrow();
  });
});
