import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExternalError } from '../../src/errors.js';
import { diagnoseNvidiaSmiFailure, parseNvidiaSmiCsv, parseNvidiaSmiVersions } from '../../src/gpu/nvidia-smi.js';

const fixture = (scenario: string, file: string) => readFileSync(new URL(`../fixtures/gpu/${scenario}/${file}`, import.meta.url), 'utf8');

describe('parseNvidiaSmiCsv', () => {
  it('reads the recorded 8× H100 query', () => {
    const gpus = parseNvidiaSmiCsv(fixture('h100-8x', 'nvidia-smi.query.csv'));
    expect(gpus).toHaveLength(8);
    expect(gpus[0]).toEqual({
      index: 0,
      uuid: 'GPU-3f5b1e0c-9a7d-4c2e-b8f1-6d0a2e4c7b91',
      name: 'NVIDIA H100 80GB HBM3',
      memoryTotalMb: 81559,
      memoryUsedMb: 74213,
      driver: '550.54.15',
      pciBusId: '00000000:18:00.0',
      utilizationGpu: 100,
      utilizationMemory: 38,
      temperatureC: 52,
      powerW: 689.32,
      powerLimitW: 700,
    });
    // Idle GPUs report zeros, which must survive (systeminformation drops them).
    expect(gpus[4]).toMatchObject({ memoryUsedMb: 0, utilizationGpu: 0, utilizationMemory: 0 });
    expect(new Set(gpus.map((g) => g.uuid)).size).toBe(8);
  });

  it('turns [N/A] into null (mixed rig)', () => {
    const gpus = parseNvidiaSmiCsv(fixture('mixed-3090-4090', 'nvidia-smi.query.csv'));
    expect(gpus.map((g) => g.name)).toEqual(['NVIDIA GeForce RTX 3090', 'NVIDIA GeForce RTX 3090', 'NVIDIA GeForce RTX 4090']);
    expect(gpus[1]).toMatchObject({ powerW: null, powerLimitW: 350, utilizationGpu: 0 });
  });

  it.each([
    ['[N/A]', null],
    ['[Not Supported]', null],
    ['[Unknown Error]', null],
    ['N/A', null],
    ['', null],
    ['0', 0],
    ['  0  ', 0],
    ['12.50', 12.5],
    ['garbage', null],
  ])('a value of %j reads as %j', (raw, expected) => {
    const [gpu] = parseNvidiaSmiCsv(`0, GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee, NVIDIA L4, 23034, 0, 550.54.15, 00000000:01:00.0, ${raw}, 0, 30, 16.2, 72.00\n`);
    expect(gpu!.utilizationGpu).toBe(expected);
  });

  it('sorts by index, skips blank lines and tolerates CRLF', () => {
    const text = '1, GPU-b, NVIDIA T4, 15360, 0, 535.1, 00000000:02:00.0, 0, 0, 30, 9, 70\r\n\r\n0, GPU-a, NVIDIA T4, 15360, 0, 535.1, 00000000:01:00.0, 0, 0, 30, 9, 70\r\n';
    expect(parseNvidiaSmiCsv(text).map((g) => g.uuid)).toEqual(['GPU-a', 'GPU-b']);
  });

  it('returns nothing for empty output', () => {
    expect(parseNvidiaSmiCsv('\n')).toEqual([]);
  });

  it.each([
    'Failed to initialize NVML: Driver/library version mismatch',
    '0, GPU-a, NVIDIA T4',
    '[N/A], GPU-a, NVIDIA T4, 1, 1, 1, 1, 1, 1, 1, 1, 1',
  ])('rejects %j with an ExternalError', (text) => {
    expect(() => parseNvidiaSmiCsv(text)).toThrow(ExternalError);
  });
});

describe('parseNvidiaSmiVersions', () => {
  it.each([
    ['h100-8x', '550.54.15', '12.4'],
    ['rtx4090', '560.35.03', '12.6'],
    ['mixed-3090-4090', '535.183.01', '12.2'],
  ])('reads the %s header table', (scenario, driver, cuda) => {
    expect(parseNvidiaSmiVersions(fixture(scenario, 'nvidia-smi.txt'))).toEqual({ driver, cuda });
  });

  it('reads `nvidia-smi -q` wording', () => {
    expect(parseNvidiaSmiVersions('Driver Version                            : 550.90.07\nCUDA Version                              : 12.4\n')).toEqual({
      driver: '550.90.07',
      cuda: '12.4',
    });
  });

  it('gives nulls for anything else', () => {
    expect(parseNvidiaSmiVersions('No devices were found')).toEqual({ driver: null, cuda: null });
  });
});

describe('diagnoseNvidiaSmiFailure', () => {
  it('a missing binary means no driver tools', () => {
    const d = diagnoseNvidiaSmiFailure({ spawnError: 'ENOENT', stdout: '', stderr: '' });
    expect(d.kind).toBe('missing');
    expect(d.message).toMatch(/no NVIDIA driver tools/i);
  });

  it('the recorded version mismatch names the NVML version and says to reboot', () => {
    const d = diagnoseNvidiaSmiFailure({ exitCode: 18, stdout: fixture('driver-mismatch', 'nvidia-smi.fail.txt'), stderr: '' });
    expect(d).toMatchObject({ kind: 'failed', code: 'NVIDIA_DRIVER_MISMATCH' });
    expect(d.message).toContain('550.127');
    expect(d.kind === 'failed' && d.hint).toMatch(/reboot/i);
  });

  it('the recorded "couldn\'t communicate" failure says to load the module', () => {
    const d = diagnoseNvidiaSmiFailure({ exitCode: 9, stdout: fixture('driver-not-loaded', 'nvidia-smi.fail.txt'), stderr: '' });
    expect(d).toMatchObject({ kind: 'failed', code: 'NVIDIA_DRIVER_NOT_LOADED' });
    expect(d.kind === 'failed' && d.hint).toMatch(/modprobe nvidia/);
  });

  it.each([
    [{ exitCode: 6, stdout: 'No devices were found\n', stderr: '' }, 'no-devices', undefined],
    [{ exitCode: 12, stdout: 'NVIDIA-SMI couldn\'t find libnvidia-ml.so library in your system.', stderr: '' }, 'failed', 'NVIDIA_NVML_MISSING'],
    [{ exitCode: 15, stdout: 'Unable to determine the device handle for GPU0000:2A:00.0: Unknown Error', stderr: '' }, 'failed', 'NVIDIA_GPU_LOST'],
    [{ timedOut: true, stdout: '', stderr: '' }, 'failed', 'NVIDIA_SMI_TIMEOUT'],
    [{ exitCode: 255, stdout: '', stderr: 'Something odd\n' }, 'failed', 'NVIDIA_SMI_FAILED'],
  ])('%j → %s', (run, kind, code) => {
    const d = diagnoseNvidiaSmiFailure(run);
    expect(d.kind).toBe(kind);
    if (code) expect(d).toMatchObject({ code });
  });

  it('an unrecognised failure quotes the first line and exit code', () => {
    const d = diagnoseNvidiaSmiFailure({ exitCode: 255, stdout: '\n  Something odd\nmore', stderr: '' });
    expect(d.message).toBe('nvidia-smi failed with exit code 255: Something odd');
  });
});
