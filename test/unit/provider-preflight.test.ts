// Preflight decisions over a stand-in runtime and recorded inventories: what blocks, what is skipped with simulated GPUs.
import { describe, expect, it } from 'vitest';
import type { ContainerRuntime, DockerPreflight } from '../../src/docker/runtime.js';
import type { Inventory } from '../../src/gpu/inventory.js';
import { ExternalError } from '../../src/errors.js';
import { parseSimulateGpus } from '../../src/provider/options.js';
import { runProviderPreflight } from '../../src/provider/preflight.js';

const healthy: DockerPreflight = { ok: true, dockerInstalled: true, clientVersion: '28.2.2', daemonReachable: true, serverVersion: '20.10.24', apiVersion: '1.41', runtimes: ['nvidia', 'runc'], nvidiaRuntime: true, problems: [] };
const noNvidia: DockerPreflight = {
  ...healthy,
  runtimes: ['runc'],
  nvidiaRuntime: false,
  problems: [{ code: 'NVIDIA_RUNTIME_MISSING', message: 'Docker has no NVIDIA runtime', hint: 'sudo nvidia-ctk runtime configure --runtime=docker', blocking: false }],
};
const down: DockerPreflight = {
  ...healthy,
  ok: false,
  daemonReachable: false,
  serverVersion: null,
  runtimes: [],
  nvidiaRuntime: false,
  problems: [{ code: 'DOCKER_DAEMON_UNREACHABLE', message: 'The Docker daemon is not reachable.', hint: 'Start the Docker daemon: sudo systemctl start docker', blocking: true }],
};
const runtime = (docker: DockerPreflight) => ({ preflight: async () => docker }) as unknown as ContainerRuntime;
const host = { hostname: 'h', os: 'Debian', kernel: '6', arch: 'x64', cpu: { model: 'cpu', cores: 8 }, memoryBytes: 32 * 1024 ** 3, diskFreeBytes: 1e12 };
const gpu = { index: 0, uuid: 'GPU-1', name: 'NVIDIA H100 80GB HBM3', model: 'H100-SXM-80GB', vramMb: 81559, vramUsedMb: 0, driver: '550.54', cuda: '12.4', pciBus: null, utilizationGpu: 0, utilizationMemory: 0, temperatureC: 30, powerW: 70, powerLimitW: 700, migMode: 'disabled' as const, migDevices: [] };
const withGpu: Inventory = { host, gpus: [gpu], driver: '550.54', cuda: '12.4', unmanagedGpus: [], unavailableFields: [] };
const noGpu: Inventory = { host, gpus: [], driver: null, cuda: null, unmanagedGpus: [], unavailableFields: [], diagnosis: 'No NVIDIA GPU found on this machine.' };

const statuses = (result: Awaited<ReturnType<typeof runProviderPreflight>>) => Object.fromEntries(result.checks.map((c) => [c.id, c.status]));

describe('provider preflight', () => {
  it.each([
    { name: 'real GPUs, all good', docker: healthy, inventory: withGpu, ok: true, expect: { docker: 'ok', 'docker-daemon': 'ok', 'nvidia-runtime': 'ok', gpus: 'ok', driver: 'ok' } },
    { name: 'no NVIDIA runtime blocks real GPUs', docker: noNvidia, inventory: withGpu, ok: false, expect: { 'nvidia-runtime': 'fail', gpus: 'ok' } },
    { name: 'no GPU blocks', docker: healthy, inventory: noGpu, ok: false, expect: { gpus: 'fail', driver: 'fail' } },
    { name: 'daemon down blocks', docker: down, inventory: withGpu, ok: false, expect: { 'docker-daemon': 'fail', 'nvidia-runtime': 'skipped' } },
  ])('$name', async ({ docker, inventory, ok, expect: wanted }) => {
    const result = await runProviderPreflight({ runtime: runtime(docker), detect: async () => inventory, diskPath: '/' });
    expect(result.ok).toBe(ok);
    expect(statuses(result)).toMatchObject(wanted);
    for (const check of result.checks.filter((c) => c.status === 'fail')) expect(check.hint ?? result.checks.find((c) => c.id === 'gpus')?.hint).toBeTruthy();
  });

  it('simulated GPUs skip the NVIDIA checks but still need Docker', async () => {
    const simulate = parseSimulateGpus('8:H100');
    const ok = await runProviderPreflight({ runtime: runtime(noNvidia), simulate, diskPath: '/' });
    expect(ok.ok).toBe(true);
    expect(statuses(ok)).toMatchObject({ 'nvidia-runtime': 'skipped', driver: 'skipped', gpus: 'ok' });
    expect(ok.checks.find((c) => c.id === 'gpus')!.message).toMatch(/SIMULATED/);
    const blocked = await runProviderPreflight({ runtime: runtime(down), simulate, diskPath: '/' });
    expect(blocked.ok).toBe(false);
  });

  it('a broken driver fails the GPU check with its fix', async () => {
    const broken = async (): Promise<Inventory> => {
      throw new ExternalError('NVIDIA driver/library version mismatch', { hint: 'Reboot, or reload the modules.' });
    };
    const result = await runProviderPreflight({ runtime: runtime(healthy), detect: broken, diskPath: '/' });
    expect(result.ok).toBe(false);
    expect(result.checks.find((c) => c.id === 'gpus')).toMatchObject({ status: 'fail', hint: 'Reboot, or reload the modules.' });
  });

  it('a MIG-enabled GPU is not counted as a whole GPU: all MIG fails, some MIG warns, both with the command that turns MIG off', async () => {
    const mig = { ...gpu, index: 1, uuid: 'GPU-2', migMode: 'enabled' as const, migDevices: [{ index: 0, profile: '3g.40gb', uuid: 'MIG-1', computeSlices: 3, memoryMb: 40448 }] };
    const onlyMig: Inventory = { ...withGpu, gpus: [mig], diagnosis: 'GPU 1 has MIG enabled' };
    const allMig = await runProviderPreflight({ runtime: runtime(healthy), detect: async () => onlyMig, diskPath: '/' });
    expect(allMig.ok).toBe(false);
    expect(allMig.checks.find((c) => c.id === 'gpus')).toMatchObject({ status: 'fail', hint: expect.stringContaining('sudo nvidia-smi -i 1 -mig 0') });
    const mixed = await runProviderPreflight({ runtime: runtime(healthy), detect: async () => ({ ...onlyMig, gpus: [gpu, mig] }), diskPath: '/' });
    expect(mixed.ok).toBe(true);
    expect(mixed.checks.find((c) => c.id === 'gpus')).toMatchObject({ status: 'warn', message: expect.stringMatching(/^1 × H100-SXM-80GB/), hint: expect.stringContaining('-mig 0') });
  });

  it('too little disk blocks', async () => {
    const result = await runProviderPreflight({ runtime: runtime(healthy), detect: async () => withGpu, diskPath: '/', minDiskBytes: Number.MAX_SAFE_INTEGER });
    expect(result.ok).toBe(false);
    expect(result.checks.find((c) => c.id === 'disk')).toMatchObject({ status: 'fail', hint: expect.stringMatching(/docker system prune/) });
  });

  it.each([
    { name: 'present: ok', docker: healthy, simulate: false, present: true, status: 'ok', reported: { image: 'k:1', present: true } },
    { name: 'missing: a warning with the command to prepare it, nothing blocks', docker: healthy, simulate: false, present: false, status: 'warn', reported: { image: 'k:1', present: false } },
    { name: 'daemon down: skipped', docker: down, simulate: false, present: true, status: 'skipped', reported: undefined },
    { name: 'simulated GPUs: not checked (the CPU stand-in answers)', docker: healthy, simulate: true, present: false, status: undefined, reported: undefined },
  ])('the challenge kernel image, $name', async ({ docker, simulate, present, status, reported }) => {
    let asked = 0;
    const kernelImage = { image: 'k:1', present: async () => (asked++, present) };
    const result = await runProviderPreflight({ runtime: runtime(docker), detect: async () => withGpu, diskPath: '/', kernelImage, ...(simulate ? { simulate: parseSimulateGpus('1') } : {}) });
    expect(statuses(result)['kernel-image']).toBe(status);
    expect(result.kernelImage).toEqual(reported);
    expect(asked).toBe(reported ? 1 : 0);
    if (status === 'warn') {
      expect(result.checks.find((c) => c.id === 'kernel-image')!.hint).toBe('Prepare it now: iocli provide kernel-image');
      expect(result.ok).toBe(true);
    }
  });
});
