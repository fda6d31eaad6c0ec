import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { diskFreeFor, isWholeGpu, mergeGpuFacts, normalisePciBusId, type PciGpuController } from '../../src/gpu/inventory.js';
import type { NvidiaSmiResult } from '../../src/gpu/nvidia-smi.js';
import { DEFAULT_QUERY_FIELDS, parseNvidiaSmiCsv } from '../../src/gpu/nvidia-smi-query.js';

/** What the scenario's recorded nvidia-smi answers to iocli's query (the replaying stand-in projects the recorded CSV). */
const recordedQuery = (scenario: string) =>
  execFileSync(fileURLToPath(new URL(`../fixtures/gpu/${scenario}/bin/nvidia-smi`, import.meta.url)), [`--query-gpu=${DEFAULT_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'], {
    encoding: 'utf8',
  });
const ok = (scenario: string, driver: string, cuda: string): NvidiaSmiResult => ({
  status: 'ok',
  gpus: parseNvidiaSmiCsv(recordedQuery(scenario)),
  driver,
  cuda,
  fields: [...DEFAULT_QUERY_FIELDS],
  unavailableFields: [],
});

// What systeminformation's graphics() returned for the recorded `lspci -vvv` of each scenario.
const nvidiaController = (busAddress: string, model: string): PciGpuController => ({ vendor: 'NVIDIA Corporation', model, busAddress });
const H100_CONTROLLERS: PciGpuController[] = [
  { vendor: 'ASPEED Technology, Inc.', model: 'ASPEED Graphics Family', busAddress: '03:00.0' },
  ...['18', '2a', '3a', '5d', '9a', 'ab', 'ba', 'db'].map((b) => nvidiaController(`${b}:00.0`, 'GH100 [H100 SXM5 80GB]')),
];

describe('normalisePciBusId', () => {
  it.each([
    ['00000000:18:00.0', '0000:18:00.0'],
    ['00000000:2A:00.0', '0000:2a:00.0'],
    ['2a:00.0', '0000:2a:00.0'],
    ['0000:2a:00.0', '0000:2a:00.0'],
    ['00000001:C1:00.1', '0001:c1:00.1'],
    ['0001:c1:00.1', '0001:c1:00.1'],
    ['', null],
    [undefined, null],
    ['[N/A]', null],
    ['Onboard', null],
  ])('%j → %j', (raw, expected) => {
    expect(normalisePciBusId(raw)).toBe(expected);
  });
});

describe('mergeGpuFacts', () => {
  it('8× H100: every GPU matched by bus, the BMC display ignored', () => {
    const merged = mergeGpuFacts({ controllers: H100_CONTROLLERS, nvidia: ok('h100-8x', '550.54.15', '12.4') });
    expect(merged.gpus).toHaveLength(8);
    expect(merged.unmanagedGpus).toEqual([]);
    expect(merged.diagnosis).toBeUndefined();
    expect(merged).toMatchObject({ driver: '550.54.15', cuda: '12.4' });
    expect(merged.gpus[1]).toEqual({
      index: 1,
      uuid: 'GPU-c1e8a4f2-57d3-2b9a-0e6f-84b1d3c5a7e2',
      name: 'NVIDIA H100 80GB HBM3',
      model: 'H100-SXM-80GB',
      vramMb: 81559,
      vramUsedMb: 74213,
      driver: '550.54.15',
      cuda: '12.4',
      pciBus: '0000:2a:00.0',
      utilizationGpu: 100,
      utilizationMemory: 36,
      temperatureC: 51,
      powerW: 671.08,
      powerLimitW: 700,
      migMode: 'disabled',
      migDevices: [],
    });
  });

  it('keeps nvidia-smi zeros and fills only its nulls from the PCI view', () => {
    const nvidia = ok('mixed-3090-4090', '535.183.01', '12.2');
    const controllers = [
      // systeminformation drops zeros, so a 0 from nvidia-smi is absent here; a stale non-zero must not win.
      { ...nvidiaController('01:00.0', 'GA102 [GeForce RTX 3090]'), utilizationGpu: 55 },
      { ...nvidiaController('05:00.0', 'GA102 [GeForce RTX 3090]'), powerDraw: 23.5 },
      nvidiaController('08:00.0', 'AD102 [GeForce RTX 4090]'),
    ];
    const { gpus, unmanagedGpus } = mergeGpuFacts({ controllers, nvidia });
    expect(gpus.map((g) => g.model)).toEqual(['RTX3090-24GB', 'RTX3090-24GB', 'RTX4090-24GB']);
    expect(gpus[0]).toMatchObject({ utilizationGpu: 0, utilizationMemory: 0, vramUsedMb: 0 });
    expect(gpus[1]).toMatchObject({ powerW: 23.5 });
    expect(unmanagedGpus).toEqual([]);
  });

  it('lists GPUs nvidia-smi reports even when lspci is missing', () => {
    const { gpus, unmanagedGpus, diagnosis } = mergeGpuFacts({ controllers: [], nvidia: ok('rtx4090', '560.35.03', '12.6') });
    expect(gpus).toHaveLength(1);
    expect(gpus[0]).toMatchObject({ model: 'RTX4090-24GB', pciBus: '0000:01:00.0', cuda: '12.6' });
    expect(unmanagedGpus).toEqual([]);
    expect(diagnosis).toBeUndefined();
  });

  it('reports NVIDIA GPUs on the PCI bus that the driver does not manage', () => {
    const controllers = [...H100_CONTROLLERS, nvidiaController('e8:00.0', 'GH100 [H100 SXM5 80GB]')];
    const merged = mergeGpuFacts({ controllers, nvidia: ok('h100-8x', '550.54.15', '12.4') });
    expect(merged.gpus).toHaveLength(8);
    expect(merged.unmanagedGpus).toEqual([{ pciBus: '0000:e8:00.0', vendor: 'NVIDIA Corporation', name: 'GH100 [H100 SXM5 80GB]' }]);
    expect(merged.diagnosis).toMatch(/1 NVIDIA GPU on the PCI bus is not managed/);
  });

  it('no driver tools but GPUs on the bus: says to install the driver', () => {
    const merged = mergeGpuFacts({
      controllers: [nvidiaController('41:00.0', 'GA100 [A100 PCIe 40GB]'), nvidiaController('c1:00.0', 'GA100 [A100 PCIe 40GB]')],
      nvidia: { status: 'missing', message: 'No NVIDIA driver tools', hint: 'Install the NVIDIA driver.' },
    });
    expect(merged.gpus).toEqual([]);
    expect(merged.unmanagedGpus).toHaveLength(2);
    expect(merged).toMatchObject({ driver: null, cuda: null });
    expect(merged.diagnosis).toBe('2 NVIDIA GPUs found on the PCI bus, but no NVIDIA driver tools (nvidia-smi) are installed. Install the NVIDIA driver.');
  });

  it.each<[string, NvidiaSmiResult, RegExp]>([
    ['no driver tools', { status: 'missing', message: 'x' }, /^No NVIDIA GPU found on this machine \(and no NVIDIA driver tools installed\)\.$/],
    ['driver without devices', { status: 'no-devices', message: 'x' }, /driver is installed but reports no device/],
    ['an empty query', { status: 'ok', gpus: [], driver: '550.54.15', cuda: '12.4', fields: [], unavailableFields: [] }, /^No NVIDIA GPU found on this machine\.$/],
  ])('no GPU (%s): empty list and a clear diagnosis', (_case, nvidia, message) => {
    const merged = mergeGpuFacts({ controllers: [{ vendor: '', model: '', busAddress: '00:02.0' }], nvidia });
    expect(merged.gpus).toEqual([]);
    expect(merged.unmanagedGpus).toEqual([]);
    expect(merged.diagnosis).toMatch(message);
  });

  it('a MIG-enabled GPU is listed with its instances but is not a whole GPU, and the diagnosis says how to turn MIG off', () => {
    const nvidia = ok('h100-8x', '550.54.15', '12.4');
    if (nvidia.status !== 'ok') throw new Error('unreachable');
    nvidia.gpus[2] = { ...nvidia.gpus[2]!, migMode: 'enabled', migDevices: [{ index: 0, profile: '7g.80gb', uuid: 'MIG-x', computeSlices: 7, memoryMb: 80896 }] };
    const merged = mergeGpuFacts({ controllers: H100_CONTROLLERS, nvidia });
    expect(merged.gpus).toHaveLength(8);
    expect(merged.gpus.filter(isWholeGpu)).toHaveLength(7);
    expect(merged.gpus[2]).toMatchObject({ migMode: 'enabled', migDevices: [{ uuid: 'MIG-x' }] });
    expect(merged.diagnosis).toBe('GPU 2 has MIG enabled (1 instance): iocli offers whole GPUs only, so it is not offered. To offer it, turn MIG off: sudo nvidia-smi -i 2 -mig 0 && sudo nvidia-smi -i 2 -r');
  });

  it.each([
    [{ uuid: 'GPU-1', migMode: 'disabled' as const }, true],
    [{ uuid: 'GPU-1', migMode: null }, true],
    [{ uuid: 'GPU-1', migMode: 'enabled' as const }, false],
    [{ uuid: 'MIG-1', migMode: null }, false],
  ])('isWholeGpu(%j) is %s', (gpu, whole) => {
    expect(isWholeGpu(gpu)).toBe(whole);
  });

  it('does not mutate its inputs', () => {
    const controllers = structuredClone(H100_CONTROLLERS);
    const nvidia = ok('h100-8x', '550.54.15', '12.4');
    const before = JSON.stringify({ controllers, nvidia });
    mergeGpuFacts({ controllers, nvidia });
    expect(JSON.stringify({ controllers, nvidia })).toBe(before);
  });
});

describe('diskFreeFor', () => {
  const filesystems = [
    { mount: '/', available: 100 },
    { mount: '/var', available: 200 },
    { mount: '/var/lib/docker', available: 300 },
    { mount: '/variant', available: 400 },
  ];
  it.each([
    ['/var/lib/docker', 300],
    ['/var/lib/docker/overlay2', 300],
    ['/var/lib', 200],
    ['/variant/x', 400],
    ['/home/me', 100],
  ])('%s → %d', (path, expected) => {
    expect(diskFreeFor(filesystems, path)).toBe(expected);
  });
  it('unknown without filesystems', () => {
    expect(diskFreeFor([], '/')).toBeNull();
  });
});
