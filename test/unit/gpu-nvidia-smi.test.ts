import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ExternalError } from '../../src/errors.js';
import { diagnoseNvidiaSmiFailure } from '../../src/gpu/nvidia-smi-diagnosis.js';
import { DEFAULT_QUERY_FIELDS, parseHelpQueryGpu, parseNvidiaSmiCsv, planQueryFields, refusedQueryField } from '../../src/gpu/nvidia-smi-query.js';
import { parseMigMemory, parseNvidiaSmiList, parseNvidiaSmiVersions } from '../../src/gpu/nvidia-smi-text.js';

const fixture = (scenario: string, file: string) => readFileSync(new URL(`../fixtures/gpu/${scenario}/${file}`, import.meta.url), 'utf8');
/** What the scenario's recorded nvidia-smi answers to iocli's query (the replaying stand-in projects the recorded CSV). */
const recordedQuery = (scenario: string, fields: readonly string[] = DEFAULT_QUERY_FIELDS) =>
  execFileSync(fileURLToPath(new URL(`../fixtures/gpu/${scenario}/bin/nvidia-smi`, import.meta.url)), [`--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits'], { encoding: 'utf8' });

describe('parseNvidiaSmiCsv', () => {
  it('reads the recorded 8× H100 query', () => {
    const gpus = parseNvidiaSmiCsv(recordedQuery('h100-8x'));
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
      migMode: 'disabled',
      migDevices: [],
    });
    // Idle GPUs report zeros, which must survive (systeminformation drops them).
    expect(gpus[4]).toMatchObject({ memoryUsedMb: 0, utilizationGpu: 0, utilizationMemory: 0 });
    expect(new Set(gpus.map((g) => g.uuid)).size).toBe(8);
  });

  it('turns [N/A] into null (mixed rig)', () => {
    const gpus = parseNvidiaSmiCsv(recordedQuery('mixed-3090-4090'));
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
    const [gpu] = parseNvidiaSmiCsv(`0, GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee, NVIDIA L4, 23034, 0, 550.54.15, 00000000:01:00.0, ${raw}, 0, 30, 16.2, 72.00, [N/A]\n`);
    expect(gpu!.utilizationGpu).toBe(expected);
  });

  it('sorts by index, skips blank lines and tolerates CRLF', () => {
    const text = '1, GPU-b, NVIDIA T4, 15360, 0, 535.1, 00000000:02:00.0, 0, 0, 30, 9, 70, [N/A]\r\n\r\n0, GPU-a, NVIDIA T4, 15360, 0, 535.1, 00000000:01:00.0, 0, 0, 30, 9, 70, [N/A]\r\n';
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
    // Real captures (test/fixtures/gpu/README.md): 590 prints Driver/CUDA Version, 610 KMD/CUDA UMD Version.
    ['h200-580', '580.173.02', '13.0'],
    ['h100-mig-590', '590.48.01', '13.1'],
    ['l40s-595', '595.80', '13.2'],
    ['h200-mig-610', '610.43.02', '13.3'],
    ['rtx2080super-610', '610.57.04', '13.3'],
  ])('reads the %s header table', (scenario, driver, cuda) => {
    expect(parseNvidiaSmiVersions(fixture(scenario, 'nvidia-smi.txt'))).toEqual({ driver, cuda });
  });

  it('reads `nvidia-smi -q` wording', () => {
    expect(parseNvidiaSmiVersions('Driver Version                            : 550.90.07\nCUDA Version                              : 12.4\n')).toEqual({
      driver: '550.90.07',
      cuda: '12.4',
    });
  });

  it.each([
    // Header lines of drivers 470 to 610 as printed on rigs (470-era lines from public READMEs and issue logs).
    ['| NVIDIA-SMI 470.57.02    Driver Version: 470.57.02    CUDA Version: 11.4     |', '470.57.02', '11.4'],
    ['| NVIDIA-SMI 470.82.01    Driver Version: 470.82.01    CUDA Version: N/A      |', '470.82.01', null],
    ['| NVIDIA-SMI 515.65.01    Driver Version: 515.65.01    CUDA Version: 11.7     |', '515.65.01', '11.7'],
    ['| NVIDIA-SMI 590.48.01              Driver Version: 590.48.01      CUDA Version: 13.1     |', '590.48.01', '13.1'],
    ['| NVIDIA-SMI 610.57.04              KMD Version: 610.57.04     CUDA UMD Version: 13.3     |', '610.57.04', '13.3'],
  ])('reads the header %j', (line, driver, cuda) => {
    expect(parseNvidiaSmiVersions(line)).toEqual({ driver, cuda });
  });

  it.each([
    ['580 (Linux)', fixture('h200-580', 'nvidia-smi.version.txt'), '580.173.02', '13.0'],
    ['590 (Linux)', fixture('h100-mig-590', 'nvidia-smi.version.txt'), '590.48.01', '13.1'],
    ['610 (Linux)', fixture('h200-mig-610', 'nvidia-smi.version.txt'), '610.43.02', '13.3'],
    // The Windows capture's `nvidia-smi --version` (driver 610.62), verbatim.
    [
      '610 (Windows)',
      'NVIDIA-SMI version  : 610.62\nNVML version        : 610.62\nDRIVER version      : Deprecated, see "KMD version" instead\nCUDA version        : Deprecated, see "CUDA UMD version" instead\nKMD version         : 610.62\nCUDA UMD version    : 13.3\n',
      '610.62',
      '13.3',
    ],
  ])('reads `nvidia-smi --version` of driver %s, never a "Deprecated" line', (_driver, text, driver, cuda) => {
    expect(parseNvidiaSmiVersions(text)).toEqual({ driver, cuda });
  });

  it('reads the 610 `nvidia-smi -q` wording, where the old names carry a deprecation note', () => {
    const q =
      'Driver Version                                         : 610.43.02 [Deprecated; will be removed in CUDA 14.0. Use KMD Version instead]\n' +
      'CUDA Version                                           : 13.3 [Deprecated; will be removed in CUDA 14.0. Use CUDA UMD Version instead]\n' +
      'KMD Version                                            : 610.43.02\nCUDA UMD Version                                       : 13.3\n';
    expect(parseNvidiaSmiVersions(q)).toEqual({ driver: '610.43.02', cuda: '13.3' });
  });

  it('gives nulls for anything else', () => {
    expect(parseNvidiaSmiVersions('No devices were found')).toEqual({ driver: null, cuda: null });
  });
});

describe('asking the driver which query fields it knows', () => {
  it('reads the names (and aliases) of the recorded 610 `--help-query-gpu` listing', () => {
    const names = parseHelpQueryGpu(fixture('h200-mig-610', 'nvidia-smi.help-query-gpu.excerpt.txt'));
    expect([...names]).toEqual(expect.arrayContaining(['driver_version', 'kmd_version', 'name', 'gpu_name', 'uuid', 'gpu_uuid', 'pci.bus_id', 'gpu_bus_id']));
    expect(names.has('Section about vgpu_driver_capability properties')).toBe(false);
  });

  it('prefers kmd_version where the driver lists it, driver_version otherwise and when it cannot tell', () => {
    const all = new Set(['index', 'uuid', 'name', 'memory.total', 'memory.used', 'driver_version', 'kmd_version', 'pci.bus_id', 'utilization.gpu', 'utilization.memory', 'temperature.gpu', 'power.draw', 'power.limit', 'mig.mode.current']);
    expect(planQueryFields(all)).toContain('kmd_version');
    expect(planQueryFields(all)).not.toContain('driver_version');
    expect(planQueryFields(new Set([...all].filter((f) => f !== 'kmd_version')))).toContain('driver_version');
    expect(planQueryFields(null)).toEqual(DEFAULT_QUERY_FIELDS);
    expect(DEFAULT_QUERY_FIELDS).toContain('driver_version');
  });

  it('skips an optional field the driver does not list, but always asks index and uuid', () => {
    const plan = planQueryFields(new Set(['name', 'memory.total']));
    expect(plan).toEqual(['index', 'uuid', 'name', 'memory.total']);
    const [gpu] = parseNvidiaSmiCsv('3, GPU-x, NVIDIA L4, 23034\n', plan);
    expect(gpu).toMatchObject({ index: 3, uuid: 'GPU-x', memoryTotalMb: 23034, powerLimitW: null, migMode: null });
  });

  it.each([
    ['Field "kmd_version" is not a valid field to query.\n\n', 'kmd_version'],
    ['Field "cuda_version" is not a valid field to query.', 'cuda_version'],
    ['Failed to initialize NVML: Driver/library version mismatch', null],
  ])('the refused field of %j is %j', (output, field) => {
    expect(refusedQueryField(output)).toBe(field);
  });
});

describe('MIG instances', () => {
  it('reads the recorded H100 `nvidia-smi -L` (3g.40gb + 2g.20gb + 2 × 1g.10gb)', () => {
    expect(parseNvidiaSmiList(fixture('h100-mig-590', 'nvidia-smi.L.txt'))).toEqual([
      {
        index: 0,
        name: 'NVIDIA H100 80GB HBM3',
        uuid: 'GPU-00000000-0000-0000-0000-000000000000',
        migDevices: [
          { index: 0, profile: '3g.40gb', uuid: 'MIG-00000000-0000-0000-0000-000000000000', computeSlices: 3, memoryMb: null },
          { index: 1, profile: '2g.20gb', uuid: 'MIG-00000001-0000-0000-0000-000000000001', computeSlices: 2, memoryMb: null },
          { index: 2, profile: '1g.10gb', uuid: 'MIG-00000002-0000-0000-0000-000000000002', computeSlices: 1, memoryMb: null },
          { index: 3, profile: '1g.10gb', uuid: 'MIG-00000003-0000-0000-0000-000000000003', computeSlices: 1, memoryMb: null },
        ],
      },
    ]);
  });

  it('reads the older MIG-GPU-<uuid>/<gi>/<ci> form and GPUs without MIG', () => {
    const listed = parseNvidiaSmiList(
      'GPU 0: A100-SXM4-40GB (UUID: GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77)\n  MIG 1g.5gb Device 0: (UUID: MIG-GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77/7/0)\nGPU 1: A100-SXM4-40GB (UUID: GPU-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0)\n',
    );
    expect(listed.map((g) => g.migDevices.map((d) => d.uuid))).toEqual([['MIG-GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77/7/0'], []]);
  });

  it.each([
    ['h100-mig-590', { '0/0': 40448, '0/1': 20096, '0/2': 9984, '0/3': 9984 }],
    ['h200-mig-610', { '0/0': 71424 }],
    ['l40s-595', {}],
  ])('reads each instance\'s memory from the %s table', (scenario, memory) => {
    expect(Object.fromEntries(parseMigMemory(fixture(scenario, 'nvidia-smi.txt')))).toEqual(memory);
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
    [{ exitCode: 2, stdout: 'Field "uuid" is not a valid field to query.\n\n', stderr: '' }, 'failed', 'NVIDIA_SMI_FIELD_REFUSED'],
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
