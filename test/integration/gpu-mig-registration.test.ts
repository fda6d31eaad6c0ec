// A MIG-enabled GPU is never offered or leased as a whole GPU, end to end through the real API on SQLite and PostgreSQL:
// the agent leaves it out of its registration (detected from the real H100 MIG capture), and the coordinator refuses a
// registration that offers one anyway (flagged MIG-enabled, or a MIG instance UUID posing as a GPU).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerRuntime, DockerPreflight } from '../../src/docker/runtime.js';
import { mergeGpuFacts, type Inventory } from '../../src/gpu/inventory.js';
import { queryNvidiaSmi } from '../../src/gpu/nvidia-smi.js';
import { buildRegistration } from '../../src/provider/node-spec.js';
import { runProviderPreflight, type ProviderPreflight } from '../../src/provider/preflight.js';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

const fixtures = fileURLToPath(new URL('../fixtures/gpu/', import.meta.url));
const docker: DockerPreflight = { ok: true, dockerInstalled: true, clientVersion: '28.2.2', daemonReachable: true, serverVersion: '20.10.24', apiVersion: '1.41', runtimes: ['nvidia', 'runc'], nvidiaRuntime: true, problems: [] };
const host = { hostname: 'rig', os: 'Ubuntu 22.04', kernel: '5.15', arch: 'x64', cpu: { model: 'cpu', cores: 16 }, memoryBytes: 64 * 1024 ** 3, diskFreeBytes: 1e12 };

/** Preflight over what detection finds in a real capture, plus any extra (whole) GPUs. */
async function preflightFor(scenario: string, extra: Inventory['gpus'] = []): Promise<ProviderPreflight> {
  const nvidia = await queryNvidiaSmi({ command: join(fixtures, scenario, 'bin', 'nvidia-smi') });
  const merged = mergeGpuFacts({ controllers: [], nvidia });
  const inventory: Inventory = { host, ...merged, gpus: [...merged.gpus, ...extra] };
  return runProviderPreflight({ runtime: { preflight: async () => docker } as unknown as ContainerRuntime, detect: async () => inventory, diskPath: '/' });
}

describe.each(ENGINES)('MIG-enabled GPUs through the API on %s', (engine) => {
  let coord: TestCoordinator;
  const provider = newKeypair();
  const renter = newKeypair();

  beforeAll(async () => {
    coord = await startTestCoordinator(engine, { heartbeatGraceMs: 60_000, sweepIntervalMs: 60_000 });
  });
  afterAll(async () => {
    await coord?.close();
  });

  it('the agent registers only whole GPUs: the MIG H100 of the capture is left out, so no H100 can be leased', async () => {
    const migOnly = await preflightFor('h100-mig-590');
    expect(() => buildRegistration({ preflight: migOnly, machineId: `mig-only-${engine}`, selection: 'all', region: 'eu-west', pricePerGpuHour: 1 })).toThrow(
      expect.objectContaining({ code: 'NO_GPUS' }),
    );

    // The same rig with a second, whole L40S (from the L40S capture): only the L40S is registered.
    const l40s = (await preflightFor('l40s-595')).inventory!.gpus[0]!;
    const mixed = await preflightFor('h100-mig-590', [{ ...l40s, index: 1, uuid: 'GPU-11111111-2222-3333-4444-555555555555' }]);
    const body = buildRegistration({ preflight: mixed, machineId: `mig-mixed-${engine}`, selection: 'all', region: 'eu-west', pricePerGpuHour: 1 });
    const p = coord.client(provider);
    const node = await p.registerNode({ ...body, simulated: true });
    expect(node.gpus).toEqual([{ index: 1, uuid: 'GPU-11111111-2222-3333-4444-555555555555', model: 'L40S-48GB', vramMb: 46068 }]);

    const r = coord.client(renter);
    await expect(r.quote({ gpus: 1, model: 'H100', image: 'busybox:latest', maxPrice: 1 })).rejects.toMatchObject({ code: 'NO_CAPACITY' });
    const offers = (await coord.client().offers({})).offers.filter((o) => o.nodeId === node.id);
    expect(offers.map((o) => [o.model, o.totalGpus])).toEqual([['L40S-48GB', 1]]);
  });

  it.each([
    ['a GPU flagged MIG-enabled', { uuid: 'GPU-00000000-0000-0000-0000-000000000000', migEnabled: true }, /MIG is enabled/],
    ['a MIG instance UUID posing as a GPU', { uuid: 'MIG-00000000-0000-0000-0000-000000000000' }, /MIG instance/],
  ])('the coordinator refuses %s with 400 and offers nothing', async (_case, gpu, message) => {
    const machineId = `mig-refused-${engine}-${gpu.uuid.slice(0, 3)}-${'migEnabled' in gpu}`;
    const spec = nodeSpec({ machineId, gpuCount: 1, model: 'H100-SXM-80GB' });
    const error = await coord
      .client(provider)
      .registerNode({ ...spec, gpus: [{ ...spec.gpus[0]!, ...gpu, vramMb: 81559 }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, code: 'BAD_REQUEST', message: expect.stringMatching(message) });
    await expect(coord.client(renter).quote({ gpus: 1, model: 'H100', image: 'busybox:latest', maxPrice: 1 })).rejects.toMatchObject({ code: 'NO_CAPACITY' });
  });
});
