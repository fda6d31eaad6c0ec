// detectInventory() against recorded lspci/nvidia-smi output, run through the real code paths (execa, systeminformation).
// systeminformation copies process.env when it is first imported and runs nvidia-smi with that copy, so PATH cannot be
// switched inside one process: each scenario runs detectInventory() in a fresh Node process with its fixture bin/ first on PATH.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/gpu/inventory.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = join(root, 'test/fixtures/gpu');
// Inside the repository (git-ignored) so the child resolves execa and systeminformation from node_modules.
const work = join(root, '.iocli-test', `gpu-inventory-${process.pid}`);
const SOURCES = [
  'src/errors.ts',
  'src/domain/gpu-catalogue.ts',
  'src/gpu/nvidia-smi-query.ts',
  'src/gpu/nvidia-smi-text.ts',
  'src/gpu/nvidia-smi-diagnosis.ts',
  'src/gpu/nvidia-smi.ts',
  'src/gpu/inventory.ts',
];

const PROBE = `
const started = performance.now();
const { detectInventory } = await import('./src/gpu/inventory.js');
try {
  const inventory = await detectInventory();
  process.stdout.write(JSON.stringify({ ok: true, ms: performance.now() - started, inventory }));
} catch (error) {
  const { name, message, code, hint, exitCode } = error;
  process.stdout.write(JSON.stringify({ ok: false, ms: performance.now() - started, error: { name, message, code, hint, exitCode } }));
}
`;

type ProbeResult =
  | { ok: true; ms: number; inventory: Inventory }
  | { ok: false; ms: number; error: { name: string; message: string; code: string; hint?: string; exitCode: number } };

/** The machine's own PATH minus fixture folders, so a scenario sees only its own recordings first. */
const basePath = (process.env.PATH ?? '').split(delimiter).filter((p) => p && !p.startsWith(fixtures));
const realNvidiaSmi = basePath.some((p) => existsSync(join(p, 'nvidia-smi')));

async function probe(scenario: string): Promise<ProbeResult> {
  const env = { ...process.env, PATH: [join(fixtures, scenario, 'bin'), ...basePath].join(delimiter) };
  const { stdout } = await promisify(execFile)(process.execPath, ['probe.mjs'], { cwd: work, env, timeout: 20_000 });
  return JSON.parse(stdout) as ProbeResult;
}

function inventoryOf(result: ProbeResult): Inventory {
  if (!result.ok) throw new Error(`detectInventory failed: ${JSON.stringify(result.error)}`);
  return result.inventory;
}

beforeAll(async () => {
  // The child cannot load TypeScript: transpile just the modules under test, keeping their relative layout.
  const ts = (await import('typescript')).default;
  for (const source of SOURCES) {
    const output = ts.transpileModule(await readFile(join(root, source), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    }).outputText;
    const target = join(work, source.replace(/\.ts$/, '.js'));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, output);
  }
  await writeFile(join(work, 'package.json'), '{"type":"module"}');
  await writeFile(join(work, 'probe.mjs'), PROBE);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('detectInventory with recorded hardware', () => {
  it('1× RTX 4090 desktop', async () => {
    const inventory = inventoryOf(await probe('rtx4090'));
    expect(inventory).toMatchObject({ driver: '560.35.03', cuda: '12.6', unmanagedGpus: [] });
    expect(inventory.diagnosis).toBeUndefined();
    expect(inventory.gpus).toEqual([
      {
        index: 0,
        uuid: 'GPU-6a8c7f2e-3b41-9d0e-5f77-1c2b8a9e4d30',
        name: 'NVIDIA GeForce RTX 4090',
        model: 'RTX4090-24GB',
        vramMb: 24564,
        vramUsedMb: 1187,
        driver: '560.35.03',
        cuda: '12.6',
        pciBus: '0000:01:00.0',
        utilizationGpu: 3,
        utilizationMemory: 1,
        temperatureC: 41,
        powerW: 28.51,
        powerLimitW: 450,
        migMode: null,
        migDevices: [],
      },
    ]);
    // Host facts come from this machine.
    expect(inventory.host.cpu.cores).toBeGreaterThan(0);
    expect(inventory.host.memoryBytes).toBeGreaterThan(0);
    expect(inventory.host.hostname).toBeTruthy();
    expect(inventory.host.kernel).toBeTruthy();
  });

  it('8× H100 80GB HBM3 SXM5', async () => {
    const inventory = inventoryOf(await probe('h100-8x'));
    expect(inventory).toMatchObject({ driver: '550.54.15', cuda: '12.4', unmanagedGpus: [] });
    expect(inventory.gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(inventory.gpus.map((g) => g.uuid)).size).toBe(8);
    expect(inventory.gpus.every((g) => g.model === 'H100-SXM-80GB' && g.vramMb === 81559 && /^GPU-[0-9a-f-]{36}$/.test(g.uuid))).toBe(true);
    expect(inventory.gpus.map((g) => g.pciBus)).toEqual(
      ['18', '2a', '3a', '5d', '9a', 'ab', 'ba', 'db'].map((bus) => `0000:${bus}:00.0`),
    );
    // Idle GPUs keep their zeros.
    expect(inventory.gpus[7]).toMatchObject({ utilizationGpu: 0, utilizationMemory: 0, vramUsedMb: 0 });
  });

  it('mixed rig: 2× RTX 3090 + 1× RTX 4090', async () => {
    const inventory = inventoryOf(await probe('mixed-3090-4090'));
    expect(inventory).toMatchObject({ driver: '535.183.01', cuda: '12.2', unmanagedGpus: [] });
    expect(inventory.gpus.map((g) => [g.index, g.model, g.pciBus])).toEqual([
      [0, 'RTX3090-24GB', '0000:01:00.0'],
      [1, 'RTX3090-24GB', '0000:05:00.0'],
      [2, 'RTX4090-24GB', '0000:08:00.0'],
    ]);
    expect(inventory.gpus[1]!.powerW).toBeNull();
  });

  it('driver/library version mismatch: ExternalError with a reboot hint', async () => {
    const result = await probe('driver-mismatch');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ name: 'ExternalError', code: 'NVIDIA_DRIVER_MISMATCH', exitCode: 3 });
    expect(result.error.message).toMatch(/version mismatch/);
    expect(result.error.hint).toMatch(/Reboot/);
  });

  it('kernel module not loaded: ExternalError with a modprobe hint', async () => {
    const result = await probe('driver-not-loaded');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ name: 'ExternalError', code: 'NVIDIA_DRIVER_NOT_LOADED', exitCode: 3 });
    expect(result.error.hint).toMatch(/modprobe nvidia/);
  });

  it.skipIf(realNvidiaSmi)('no GPU and no driver tools: empty list, a diagnosis, no error', async () => {
    const inventory = inventoryOf(await probe('no-gpu'));
    expect(inventory).toMatchObject({ gpus: [], unmanagedGpus: [], driver: null, cuda: null });
    expect(inventory.diagnosis).toBe('No NVIDIA GPU found on this machine (and no NVIDIA driver tools installed).');
  });
});
