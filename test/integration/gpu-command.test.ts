// `iocli gpus` in-process against recorded hardware: JSON shape, the human table, and the error for a broken driver.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { gpus } from '../../commands/gpus.js';
import { Output } from '../../commands/output.js';
import { ExternalError } from '../../src/errors.js';

type Ctx = Parameters<typeof gpus.run>[1];
const fixtures = fileURLToPath(new URL('../fixtures/gpu/', import.meta.url));
const originalPath = process.env.PATH;
// With a real driver on this machine the no-GPU scenario would find it; that case is only checked elsewhere.
const realNvidiaSmi = (originalPath ?? '').split(delimiter).some((p) => p && existsSync(join(p, 'nvidia-smi')));
const usePath = (scenario: string) => {
  process.env.PATH = [join(fixtures, scenario, 'bin'), originalPath].join(delimiter);
};
// Before anything imports systeminformation, which keeps the PATH it first sees for its own nvidia-smi call.
usePath('h100-8x');

afterAll(() => {
  process.env.PATH = originalPath;
});

async function runGpus(json: boolean): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = new Output({
    json,
    quiet: false,
    color: false,
    stdout: { write: (chunk: string) => ((stdout += chunk), true) },
    stderr: { write: (chunk: string) => ((stderr += chunk), true) },
  });
  const ctx = { out, signal: new AbortController().signal } as unknown as Ctx;
  const result = await gpus.run({}, ctx);
  if (result) await out.result(result);
  return { stdout, stderr };
}

describe('iocli gpus', () => {
  it('is described with examples', () => {
    expect(gpus.path).toBe('gpus');
    expect(gpus.examples.length).toBeGreaterThan(0);
  });

  it('--json prints the full inventory as one document (8× H100)', async () => {
    usePath('h100-8x');
    const { stdout, stderr } = await runGpus(true);
    const data = JSON.parse(stdout);
    expect(stderr).toBe('');
    expect(data.gpus).toHaveLength(8);
    expect(data).toMatchObject({ driver: '550.54.15', cuda: '12.4', unmanagedGpus: [] });
    expect(data.gpus[0]).toMatchObject({ index: 0, model: 'H100-SXM-80GB', uuid: 'GPU-3f5b1e0c-9a7d-4c2e-b8f1-6d0a2e4c7b91', pciBus: '0000:18:00.0' });
    expect(Object.keys(data.host).sort()).toEqual(['arch', 'cpu', 'diskFreeBytes', 'hostname', 'kernel', 'memoryBytes', 'os']);
  });

  it('shows the host summary and one table row per GPU', async () => {
    usePath('mixed-3090-4090');
    const { stdout } = await runGpus(false);
    expect(stdout).toMatch(/Host:\s+\S+/);
    expect(stdout).toMatch(/CUDA:\s+12\.2/);
    for (const header of ['#', 'Model', 'VRAM', 'Used', 'Util', 'Temp', 'Power', 'Driver/CUDA', 'UUID']) expect(stdout).toContain(header);
    expect(stdout).toContain('RTX3090-24GB');
    expect(stdout).toContain('GPU-4e9a1c7b-0d52-f8e3-6b1a-93c7d2e0f5a4');
    expect(stdout).toContain('535.183.01 / 12.2');
    expect(stdout).toContain('24.0 GiB');
    expect(stdout).toContain('-/350 W');
    expect(stdout).toContain('398/450 W');
  });

  it.skipIf(realNvidiaSmi)('no GPU: says so, exits normally, gpus: [] in JSON', async () => {
    usePath('no-gpu');
    const human = await runGpus(false);
    expect(human.stdout).toContain('No usable GPU on this machine.');
    expect(human.stdout).toContain('No NVIDIA GPU found on this machine');
    const json = JSON.parse((await runGpus(true)).stdout);
    expect(json.gpus).toEqual([]);
    expect(json.diagnosis).toMatch(/No NVIDIA GPU found/);
  });

  it('a driver/library mismatch fails with exit code 3 and a fix', async () => {
    usePath('driver-mismatch');
    const error = await runGpus(false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalError);
    expect(error).toMatchObject({ exitCode: 3, code: 'NVIDIA_DRIVER_MISMATCH' });
    expect((error as ExternalError).hint).toMatch(/Reboot/);
  });
});
