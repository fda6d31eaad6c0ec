// GPU verification: a short CUDA matmul benchmark per real GPU, compared with the catalogue's datasheet FP16 figure.
// Simulated GPUs are never benchmarked: they report 'simulated'. The benchmark needs real NVIDIA hardware, the NVIDIA
// container runtime and the image below (pulled like any lease image); it cannot run on a machine without GPUs.
import type { Verification } from '../api/schemas/nodes.js';
import type { ContainerRuntime } from '../docker/runtime.js';
import { getGpuCatalogueEntry } from '../domain/gpu-catalogue.js';

/** Public PyTorch CUDA runtime image: torch + cuBLAS, nothing else needed. */
export const VERIFY_IMAGE = 'pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime';

/** FP16 dense matmul, 8192², 10 warm-up + 50 timed iterations; prints one parseable line. Runs as argv, no shell. */
export const VERIFY_COMMAND = [
  'python',
  '-c',
  [
    'import torch, time',
    "assert torch.cuda.is_available(), 'no CUDA device visible'",
    'n = 8192',
    "a = torch.randn(n, n, device='cuda', dtype=torch.float16)",
    'b = torch.randn_like(a)',
    'for _ in range(10): a @ b',
    'torch.cuda.synchronize()',
    'start = time.perf_counter()',
    'for _ in range(50): a @ b',
    'torch.cuda.synchronize()',
    'elapsed = time.perf_counter() - start',
    "print(f'IOCLI_VERIFY tflops={2 * n**3 * 50 / elapsed / 1e12:.1f} device={torch.cuda.get_device_name(0)!r}')",
  ].join('\n'),
];

export type GpuVerification =
  | { uuid: string; status: 'simulated' }
  | { uuid: string; status: 'passed' | 'slow'; tflops: number; expectedTflops: number | null; ratio: number | null }
  | { uuid: string; status: 'failed'; error: string };

/** Below this share of the datasheet figure a GPU is reported slow (throttling, a cut-down part, or a mislabelled model). */
export const MIN_RATIO = 0.5;

export function parseVerifyOutput(output: string): number | undefined {
  const match = /IOCLI_VERIFY tflops=([0-9.]+)/.exec(output);
  return match ? Number(match[1]) : undefined;
}

export function judgeVerification(uuid: string, model: string, tflops: number): GpuVerification {
  const expected = getGpuCatalogueEntry(model)?.fp16Tflops ?? null;
  const ratio = expected ? Math.round((tflops / expected) * 100) / 100 : null;
  return { uuid, status: ratio !== null && ratio < MIN_RATIO ? 'slow' : 'passed', tflops, expectedTflops: expected, ratio };
}

/** The node's verification as the coordinator takes it: the slowest GPU counts; passed only if every GPU passed. */
export function summarizeVerification(results: readonly GpuVerification[]): Verification {
  if (results.length > 0 && results.every((r) => r.status === 'simulated')) return { kind: 'simulated' };
  const measured = results.filter((r): r is Extract<GpuVerification, { tflops: number }> => 'tflops' in r);
  return {
    kind: 'benchmark',
    tflops: measured.length > 0 ? Math.min(...measured.map((r) => r.tflops)) : 0,
    expectedTflops: measured.find((r) => r.expectedTflops !== null)?.expectedTflops ?? null,
    passed: results.length > 0 && results.every((r) => r.status === 'passed'),
  };
}

export interface VerifyOptions {
  runtime: ContainerRuntime;
  nodeId: string;
  gpus: ReadonlyArray<{ uuid: string; model: string }>;
  simulated: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Runs the benchmark on each GPU in turn (one GPU per container, same security profile as leases). */
export async function verifyGpus(options: VerifyOptions): Promise<GpuVerification[]> {
  if (options.simulated) return options.gpus.map((gpu) => ({ uuid: gpu.uuid, status: 'simulated' as const }));
  const results: GpuVerification[] = [];
  for (const gpu of options.gpus) {
    const leaseId = `verify-${Date.now().toString(36)}`;
    let containerId: string | undefined;
    try {
      if (!(await options.runtime.imageExists(VERIFY_IMAGE))) await options.runtime.pull(VERIFY_IMAGE, undefined, options.signal);
      containerId = await options.runtime.run({
        leaseId,
        nodeId: options.nodeId,
        name: `iocli-${leaseId}`,
        image: VERIFY_IMAGE,
        command: VERIFY_COMMAND,
        gpuUuids: [gpu.uuid],
        memoryBytes: 8 * 1024 ** 3,
        cpus: 2,
        pidsLimit: 256,
        readOnlyRoot: false,
        network: 'none',
      });
      const deadline = Date.now() + (options.timeoutMs ?? 300_000);
      let state = await options.runtime.inspect(containerId);
      while (state.running && Date.now() < deadline && !options.signal?.aborted) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        state = await options.runtime.inspect(containerId);
      }
      let output = '';
      await options.runtime.logs(containerId, {}, (chunk) => (output += chunk.text));
      const tflops = parseVerifyOutput(output);
      if (tflops === undefined) {
        results.push({ uuid: gpu.uuid, status: 'failed', error: output.trim().split('\n').at(-1) || `exit code ${state.exitCode ?? '?'}` });
      } else results.push(judgeVerification(gpu.uuid, gpu.model, tflops));
    } catch (error) {
      results.push({ uuid: gpu.uuid, status: 'failed', error: (error as Error).message });
    } finally {
      if (containerId) await options.runtime.remove(containerId).catch(() => {});
    }
  }
  return results;
}
