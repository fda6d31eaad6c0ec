// GPU detection against real nvidia-smi captures (test/fixtures/gpu/README.md): the real query path (execa, the driver
// asked for its fields, `-L` for MIG, `--version` as a fallback) run against each capture's replaying nvidia-smi, then the
// inventory merge, preflight and `iocli gpus` over what it found. Also: drivers that refuse a field still detect GPUs.
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { gpus as gpusCommand } from '../../commands/gpus.js';
import { Output } from '../../commands/output.js';
import type { ContainerRuntime, DockerPreflight } from '../../src/docker/runtime.js';
import { ExternalError } from '../../src/errors.js';
import { isWholeGpu, mergeGpuFacts, type Inventory } from '../../src/gpu/inventory.js';
import { queryNvidiaSmi } from '../../src/gpu/nvidia-smi.js';
import { runProviderPreflight } from '../../src/provider/preflight.js';

const fixtures = fileURLToPath(new URL('../fixtures/gpu/', import.meta.url));
const nvidiaSmiOf = (scenario: string) => join(fixtures, scenario, 'bin', 'nvidia-smi');
const originalPath = process.env.PATH;
// `iocli gpus` below runs in-process: systeminformation keeps the PATH it first sees, and these captures have no lspci.
process.env.PATH = [join(fixtures, 'h100-mig-590', 'bin'), originalPath].join(delimiter);

const ZERO_UUID = 'GPU-00000000-0000-0000-0000-000000000000';
const healthyDocker: DockerPreflight = { ok: true, dockerInstalled: true, clientVersion: '28.2.2', daemonReachable: true, serverVersion: '20.10.24', apiVersion: '1.41', runtimes: ['nvidia', 'runc'], nvidiaRuntime: true, problems: [] };
const runtime = { preflight: async () => healthyDocker } as unknown as ContainerRuntime;
const host = { hostname: 'rig', os: 'Ubuntu 22.04', kernel: '5.15', arch: 'x64', cpu: { model: 'cpu', cores: 16 }, memoryBytes: 64 * 1024 ** 3, diskFreeBytes: 1e12 };

async function inventoryOf(scenario: string): Promise<Inventory> {
  const nvidia = await queryNvidiaSmi({ command: nvidiaSmiOf(scenario) });
  return { host, ...mergeGpuFacts({ controllers: [], nvidia }) };
}

const envSet: string[] = [];
function setEnv(name: string, value: string): void {
  envSet.push(name);
  process.env[name] = value;
}
afterEach(() => {
  for (const name of envSet.splice(0)) delete process.env[name];
});
afterAll(() => {
  process.env.PATH = originalPath;
});

describe('real captures: what detection finds', () => {
  it.each([
    {
      scenario: 'h100-mig-590',
      name: 'NVIDIA H100 80GB HBM3',
      model: 'H100-SXM-80GB',
      vramMb: 81559,
      driver: '590.48.01',
      cuda: '13.1',
      driverField: 'driver_version',
      migMode: 'enabled',
      mig: [
        ['3g.40gb', 'MIG-00000000-0000-0000-0000-000000000000', 3, 40448],
        ['2g.20gb', 'MIG-00000001-0000-0000-0000-000000000001', 2, 20096],
        ['1g.10gb', 'MIG-00000002-0000-0000-0000-000000000002', 1, 9984],
        ['1g.10gb', 'MIG-00000003-0000-0000-0000-000000000003', 1, 9984],
      ],
      power: [71.15, 700],
      preflight: 'fail',
    },
    {
      scenario: 'h200-mig-610',
      name: 'NVIDIA H200',
      model: 'H200-SXM-141GB',
      vramMb: 143771,
      driver: '610.43.02',
      cuda: '13.3',
      driverField: 'kmd_version',
      migMode: 'enabled',
      mig: [['3g.71gb', 'MIG-f165f0ad-bde2-5b72-acdf-73bbf48eeb2c', 3, 71424]],
      power: [130.44, 700],
      preflight: 'fail',
    },
    {
      scenario: 'h200-580',
      name: 'NVIDIA H200',
      model: 'H200-SXM-141GB',
      vramMb: 143771,
      driver: '580.173.02',
      cuda: '13.0',
      driverField: 'driver_version',
      migMode: 'disabled',
      mig: [],
      power: [85.12, 700],
      preflight: 'ok',
    },
    {
      scenario: 'rtx2080super-610',
      name: 'NVIDIA GeForce RTX 2080 SUPER',
      model: 'unknown',
      vramMb: 8192,
      driver: '610.57.04',
      cuda: '13.3',
      driverField: 'kmd_version',
      migMode: null,
      mig: [],
      power: [39.17, 250],
      preflight: 'ok',
    },
    {
      scenario: 'l40s-595',
      name: 'NVIDIA L40S',
      model: 'L40S-48GB',
      vramMb: 46068,
      driver: '595.80',
      cuda: '13.2',
      driverField: 'kmd_version',
      migMode: null,
      mig: [],
      power: [144.97, 350],
      preflight: 'ok',
    },
  ])('$scenario: 1 × $name, driver $driver, CUDA $cuda, MIG $migMode, preflight $preflight', async (c) => {
    const nvidia = await queryNvidiaSmi({ command: nvidiaSmiOf(c.scenario) });
    if (nvidia.status !== 'ok') throw new Error(`detection failed: ${JSON.stringify(nvidia)}`);
    expect(nvidia.fields).toContain(c.driverField);
    expect(nvidia.unavailableFields).toEqual([]);

    const inventory: Inventory = { host, ...mergeGpuFacts({ controllers: [], nvidia }) };
    expect(inventory.gpus).toHaveLength(1);
    const [gpu] = inventory.gpus;
    expect(gpu).toMatchObject({ index: 0, uuid: ZERO_UUID, name: c.name, model: c.model, vramMb: c.vramMb, driver: c.driver, cuda: c.cuda, migMode: c.migMode });
    expect([gpu!.powerW, gpu!.powerLimitW]).toEqual(c.power);
    expect(gpu!.migDevices.map((d) => [d.profile, d.uuid, d.computeSlices, d.memoryMb])).toEqual(c.mig);
    expect(inventory).toMatchObject({ driver: c.driver, cuda: c.cuda });
    expect(isWholeGpu(gpu!)).toBe(c.migMode !== 'enabled');

    const preflight = await runProviderPreflight({ runtime, detect: async () => inventory, diskPath: '/' });
    const checks = Object.fromEntries(preflight.checks.map((check) => [check.id, check]));
    expect(checks.gpus!.status).toBe(c.preflight);
    // The newest driver's CUDA version is read, so no "CUDA version unknown" warning on it.
    expect(checks.driver).toMatchObject({ status: 'ok', message: `driver ${c.driver}, CUDA ${c.cuda}` });
    if (c.preflight === 'fail') {
      expect(checks.gpus!.message).toMatch(/MIG enabled .*not offered/);
      expect(checks.gpus!.hint).toContain('sudo nvidia-smi -i 0 -mig 0');
    }
  });

  it('a MIG GPU shows as enabled with no readings the driver cannot give ([N/A] utilisation)', async () => {
    const [gpu] = (await inventoryOf('h100-mig-590')).gpus;
    expect(gpu).toMatchObject({ utilizationGpu: null, utilizationMemory: null, temperatureC: 42, vramUsedMb: 59, pciBus: '0000:00:09.0' });
  });
});

describe('a driver that refuses a field costs that field only', () => {
  it('a field the driver does not list is not asked: the GPU is detected without it', async () => {
    setEnv('IOCLI_FAKE_NVIDIA_SMI_REFUSE', 'power.limit');
    const nvidia = await queryNvidiaSmi({ command: nvidiaSmiOf('l40s-595') });
    if (nvidia.status !== 'ok') throw new Error('detection failed');
    expect(nvidia.fields).not.toContain('power.limit');
    expect(nvidia.unavailableFields).toEqual(['power.limit']);
    expect(nvidia.gpus[0]).toMatchObject({ uuid: ZERO_UUID, name: 'NVIDIA L40S', memoryTotalMb: 46068, powerW: 144.97, powerLimitW: null, driver: '595.80' });
  });

  it('without a field listing, each refused field is dropped and the query retried', async () => {
    setEnv('IOCLI_FAKE_NVIDIA_SMI_NO_HELP', '1');
    setEnv('IOCLI_FAKE_NVIDIA_SMI_REFUSE', 'mig.mode.current,power.draw');
    const nvidia = await queryNvidiaSmi({ command: nvidiaSmiOf('rtx2080super-610') });
    if (nvidia.status !== 'ok') throw new Error('detection failed');
    expect(nvidia.unavailableFields).toEqual(['power.draw', 'mig.mode.current']);
    expect(nvidia.gpus).toHaveLength(1);
    // Without the listing iocli asks the long-standing driver_version, which 610 still answers.
    expect(nvidia.gpus[0]).toMatchObject({ uuid: ZERO_UUID, memoryTotalMb: 8192, driver: '610.57.04', powerW: null, powerLimitW: 250, migMode: null });
    expect(nvidia).toMatchObject({ driver: '610.57.04', cuda: '13.3' });
  });

  it('a driver without driver_version (only kmd_version) still reports its version', async () => {
    setEnv('IOCLI_FAKE_NVIDIA_SMI_REFUSE', 'driver_version');
    const nvidia = await queryNvidiaSmi({ command: nvidiaSmiOf('h200-mig-610') });
    if (nvidia.status !== 'ok') throw new Error('detection failed');
    expect(nvidia.fields).toContain('kmd_version');
    expect(nvidia).toMatchObject({ driver: '610.43.02', cuda: '13.3' });
  });

  it('refusing a field iocli cannot do without fails with a diagnosis naming the field, not a driver reinstall', async () => {
    setEnv('IOCLI_FAKE_NVIDIA_SMI_REFUSE', 'uuid');
    const error = await queryNvidiaSmi({ command: nvidiaSmiOf('l40s-595') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalError);
    expect(error).toMatchObject({ code: 'NVIDIA_SMI_FIELD_REFUSED', message: expect.stringContaining('"uuid"') });
    expect((error as ExternalError).hint).not.toMatch(/reinstall/i);
  });

  it('telemetry settles the fields once and reuses them', async () => {
    const first = await queryNvidiaSmi({ command: nvidiaSmiOf('h200-mig-610'), readingsOnly: true });
    if (first.status !== 'ok') throw new Error('detection failed');
    setEnv('IOCLI_FAKE_NVIDIA_SMI_NO_HELP', '1');
    const again = await queryNvidiaSmi({ command: nvidiaSmiOf('h200-mig-610'), readingsOnly: true, fields: first.fields });
    if (again.status !== 'ok') throw new Error('detection failed');
    expect(again.gpus).toEqual(first.gpus);
    expect(again.fields).toContain('kmd_version');
  });
});

describe('iocli gpus on a MIG-enabled H100 (real capture)', () => {
  async function run(json: boolean): Promise<string> {
    let stdout = '';
    const out = new Output({ json, quiet: false, color: false, stdout: { write: (c: string) => ((stdout += c), true) }, stderr: { write: () => true } });
    const ctx = { out, signal: new AbortController().signal } as unknown as Parameters<typeof gpusCommand.run>[1];
    const result = await gpusCommand.run({}, ctx);
    if (result) await out.result(result);
    return stdout;
  }

  it('lists the GPU, its four instances, and why it is not offered', async () => {
    const human = await run(false);
    expect(human).toContain('H100-SXM-80GB');
    expect(human).toContain('MIG instances (not offered');
    for (const profile of ['3g.40gb', '2g.20gb', '1g.10gb']) expect(human).toContain(profile);
    expect(human).toContain('MIG-00000001-0000-0000-0000-000000000001');
    expect(human).toContain('39.5 GiB');
    expect(human).toContain('sudo nvidia-smi -i 0 -mig 0');
    const data = JSON.parse(await run(true));
    expect(data.gpus[0]).toMatchObject({ migMode: 'enabled', migDevices: [{ profile: '3g.40gb', memoryMb: 40448 }, {}, {}, {}] });
    expect(data.diagnosis).toMatch(/MIG enabled \(4 instances\)/);
  });
});
