// Provider choices: GPU selection, prices in base units, regions, simulated GPUs, registration and limits.
import { describe, expect, it } from 'vitest';
import {
  parseGpuSelection,
  parseSimulateGpus,
  selectGpus,
  guessRegion,
  suggestedPricePerGpuHour,
  simulatedGpus,
  validateRegion,
} from '../../src/provider/options.js';
import { buildRegistration, limitsFor } from '../../src/provider/node-spec.js';
import type { ProviderPreflight } from '../../src/provider/preflight.js';
import { registerNodeSchema } from '../../src/api/schemas/nodes.js';

describe('provider options', () => {
  it.each([
    ['all', 'all'],
    ['ALL', 'all'],
    ['0', [0]],
    ['3,1,1', [1, 3]],
    ['0, 2', [0, 2]],
  ])('--gpus %s', (raw, expected) => {
    expect(parseGpuSelection(raw)).toEqual(expected);
  });

  it.each(['', 'some', '-1', '0;1', '1,,2'])('rejects --gpus %j', (raw) => {
    expect(() => parseGpuSelection(raw)).toThrow(/--gpus/);
  });

  it('validates regions', () => {
    expect(validateRegion('eu-west-1')).toBe('eu-west-1');
    expect(() => validateRegion('EU West')).toThrow(/--region/);
  });

  it.each([
    ['8:H100', 8, 'H100-SXM-80GB'],
    ['2:RTX4090-24GB', 2, 'RTX4090-24GB'],
    ['1:a100 80gb', 1, 'A100-SXM-80GB'],
    ['4', 4, 'RTX4090-24GB'],
  ])('--simulate-gpus %s', (raw, count, model) => {
    const parsed = parseSimulateGpus(raw);
    expect(parsed.count).toBe(count);
    expect(parsed.model.id).toBe(model);
  });

  it.each(['0', '65', 'x', '2:NOPE9000'])('rejects --simulate-gpus %j', (raw) => {
    expect(() => parseSimulateGpus(raw)).toThrow(/simulate-gpus|Unknown GPU model/);
  });

  it('gives simulated GPUs stable SIM- UUIDs per machine', () => {
    const gpus = simulatedGpus('m-abc', parseSimulateGpus('2:H100'));
    expect(gpus).toEqual([
      { index: 0, uuid: 'SIM-m-abc-0', model: 'H100-SXM-80GB', vramMb: 80 * 1024 },
      { index: 1, uuid: 'SIM-m-abc-1', model: 'H100-SXM-80GB', vramMb: 80 * 1024 },
    ]);
    expect(simulatedGpus('m-abc', parseSimulateGpus('2:H100'))).toEqual(gpus);
  });

  it('selects GPUs by index and names a missing one', () => {
    const all = [{ index: 0 }, { index: 1 }, { index: 2 }];
    expect(selectGpus(all, [0, 2])).toEqual([{ index: 0 }, { index: 2 }]);
    expect(() => selectGpus(all, [5])).toThrow(/GPU 5/);
  });
});

const preflight = (overrides: Partial<ProviderPreflight> = {}): ProviderPreflight => ({
  ok: true,
  simulated: true,
  checks: [],
  docker: { ok: true, dockerInstalled: true, clientVersion: '28.2.2', daemonReachable: true, serverVersion: '20.10.24', apiVersion: '1.41', runtimes: ['runc'], nvidiaRuntime: false, problems: [] },
  host: { hostname: 'h', cpu: { model: 'CPU', cores: 16 }, memoryMb: 65_536, diskFreeBytes: 100 * 1024 ** 3 },
  ...overrides,
});

const realGpu = { index: 0, uuid: 'GPU-1', name: 'NVIDIA H100 80GB HBM3', model: 'H100-SXM-80GB', vramMb: 81559, vramUsedMb: 0, driver: '550.54', cuda: '12.4', pciBus: null, utilizationGpu: 0, utilizationMemory: 0, temperatureC: 30, powerW: 70, powerLimitW: 700, migMode: 'disabled' as const, migDevices: [] };

describe('node registration', () => {
  it('registers simulated GPUs as simulated, valid for the wire schema', () => {
    const body = buildRegistration({ preflight: preflight(), machineId: 'm-1', selection: [1], simulate: parseSimulateGpus('2:H100'), region: 'local', pricePerGpuHour: 2_000_000 });
    expect(body).toMatchObject({ machineId: 'm-1', simulated: true, gpus: [{ index: 1, uuid: 'SIM-m-1-1', model: 'H100-SXM-80GB' }], diskGb: 100, dockerVersion: '20.10.24' });
    expect(registerNodeSchema.safeParse(body).success).toBe(true);
  });

  it('registers real GPUs with their UUIDs, driver and CUDA', () => {
    const inventory = { host: {} as never, gpus: [realGpu], driver: '550.54', cuda: '12.4', unmanagedGpus: [], unavailableFields: [] };
    const body = buildRegistration({ preflight: preflight({ simulated: false, inventory }), machineId: 'm-2', selection: 'all', region: 'eu-west', pricePerGpuHour: 1 });
    expect(body).toMatchObject({ simulated: false, driverVersion: '550.54', cudaVersion: '12.4', gpus: [{ index: 0, uuid: 'GPU-1', model: 'H100-SXM-80GB', vramMb: 81559, migEnabled: false }] });
  });

  it('never registers a MIG-enabled GPU as a whole GPU: --gpus all leaves it out, naming it fails, all-MIG has no GPU', () => {
    const mig = { ...realGpu, index: 1, uuid: 'GPU-2', migMode: 'enabled' as const, migDevices: [{ index: 0, profile: '3g.40gb', uuid: 'MIG-1', computeSlices: 3, memoryMb: 40448 }] };
    const inventory = { host: {} as never, gpus: [realGpu, mig], driver: '550.54', cuda: '12.4', unmanagedGpus: [], unavailableFields: [] };
    const all = buildRegistration({ preflight: preflight({ simulated: false, inventory }), machineId: 'm-4', selection: 'all', region: 'eu-west', pricePerGpuHour: 1 });
    expect(all.gpus.map((g) => g.uuid)).toEqual(['GPU-1']);
    expect(registerNodeSchema.safeParse(all).success).toBe(true);
    expect(() => buildRegistration({ preflight: preflight({ simulated: false, inventory }), machineId: 'm-4', selection: [1], region: 'eu-west', pricePerGpuHour: 1 })).toThrow(/GPU 1 has MIG enabled/);
    const onlyMig = { ...inventory, gpus: [mig] };
    expect(() => buildRegistration({ preflight: preflight({ simulated: false, inventory: onlyMig }), machineId: 'm-4', selection: 'all', region: 'eu-west', pricePerGpuHour: 1 })).toThrow(
      expect.objectContaining({ code: 'NO_GPUS', hint: expect.stringContaining('sudo nvidia-smi -i 1 -mig 0') }),
    );
  });

  it.each([
    ['a MIG instance UUID', { uuid: 'MIG-8d6a4f2e-0000-0000-0000-000000000005' }, /MIG instance/],
    ['a GPU flagged MIG-enabled', { migEnabled: true }, /MIG is enabled/],
  ])('the wire schema refuses %s as a whole GPU', (_name, change, message) => {
    const body = buildRegistration({ preflight: preflight({ simulated: false, inventory: { host: {} as never, gpus: [realGpu], driver: '550.54', cuda: '12.4', unmanagedGpus: [], unavailableFields: [] } }), machineId: 'm-5', selection: 'all', region: 'eu-west', pricePerGpuHour: 1 });
    const parsed = registerNodeSchema.safeParse({ ...body, gpus: [{ ...body.gpus[0], ...change }] });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.message).toMatch(message);
  });

  it('registers the public host renters reach workloads on', () => {
    const body = buildRegistration({ preflight: preflight(), machineId: 'm-3', selection: 'all', simulate: parseSimulateGpus('1'), region: 'local', pricePerGpuHour: 1, publicHost: 'gpu-7.example.net' });
    expect(body.publicHost).toBe('gpu-7.example.net');
    expect(registerNodeSchema.safeParse(body).success).toBe(true);
    expect(registerNodeSchema.safeParse({ ...body, publicHost: 'http://x:80' }).success).toBe(false);
  });

  it('splits host memory and CPUs over the shared GPUs, keeping some for the host', () => {
    const limits = limitsFor({ memoryMb: 65_536, cpu: { cores: 16 } }, 4);
    expect(limits.cpusPerGpu).toBeCloseTo(3.87, 2);
    expect(limits.memoryBytesPerGpu).toBeLessThan((65_536 / 4) * 1024 * 1024);
    expect(limits.memoryBytesPerGpu).toBeGreaterThan(12 * 1024 ** 3);
  });
});

describe('GPU verification', () => {
  it('parses the benchmark line and judges it against the datasheet', async () => {
    const { judgeVerification, parseVerifyOutput, verifyGpus } = await import('../../src/provider/verify.js');
    expect(parseVerifyOutput("IOCLI_VERIFY tflops=712.4 device='NVIDIA H100 80GB HBM3'\n")).toBe(712.4);
    expect(parseVerifyOutput('Traceback: no CUDA')).toBeUndefined();
    expect(judgeVerification('GPU-1', 'H100-SXM-80GB', 700)).toMatchObject({ status: 'passed', expectedTflops: 989.4, ratio: 0.71 });
    expect(judgeVerification('GPU-1', 'H100-SXM-80GB', 200)).toMatchObject({ status: 'slow' });
    expect(judgeVerification('GPU-1', 'Mystery GPU', 50)).toMatchObject({ status: 'passed', expectedTflops: null });
    // Simulated GPUs are never run.
    const results = await verifyGpus({ runtime: {} as never, nodeId: 'n', gpus: [{ uuid: 'SIM-m-0', model: 'H100-SXM-80GB' }], simulated: true });
    expect(results).toEqual([{ uuid: 'SIM-m-0', status: 'simulated' }]);
  });

  it('summarises per-GPU results into the verification the coordinator takes (the slowest GPU counts)', async () => {
    const { summarizeVerification } = await import('../../src/provider/verify.js');
    expect(summarizeVerification([{ uuid: 'SIM-0', status: 'simulated' }])).toEqual({ kind: 'simulated' });
    const passed = { uuid: 'GPU-0', status: 'passed' as const, tflops: 700, expectedTflops: 989.4, ratio: 0.71 };
    expect(summarizeVerification([passed, { ...passed, uuid: 'GPU-1', tflops: 650 }])).toEqual({ kind: 'benchmark', tflops: 650, expectedTflops: 989.4, passed: true });
    expect(summarizeVerification([passed, { uuid: 'GPU-1', status: 'slow', tflops: 200, expectedTflops: 989.4, ratio: 0.2 }])).toMatchObject({ tflops: 200, passed: false });
    expect(summarizeVerification([passed, { uuid: 'GPU-1', status: 'failed', error: 'no CUDA' }])).toMatchObject({ tflops: 700, passed: false });
    expect(summarizeVerification([])).toMatchObject({ kind: 'benchmark', passed: false });
  });
});

describe('first-run suggestions', () => {
  it.each([
    ['Europe/Berlin', 'eu-west'],
    ['America/Chicago', 'us-east'],
    ['Asia/Tokyo', 'ap-east'],
    ['Australia/Sydney', 'ap-east'],
    ['UTC', 'local'],
  ])('guesses region %s → %s', (timeZone, region) => {
    expect(guessRegion(timeZone)).toBe(region);
  });

  it('suggests the catalogue price of the simulated or first detected GPU, and nothing without GPUs', () => {
    const h100 = suggestedPricePerGpuHour(parseSimulateGpus('8:H100'), []);
    expect(h100).toBeGreaterThan(0);
    expect(suggestedPricePerGpuHour(undefined, [{ model: 'H100-SXM-80GB', name: 'NVIDIA H100 80GB HBM3', vramMb: 81_559 }])).toBe(h100);
    expect(suggestedPricePerGpuHour(undefined, [])).toBeUndefined();
  });
});
