import { describe, expect, it } from 'vitest';
import {
  GPU_CATALOGUE,
  canonicalGpuName,
  compileModelFilter,
  getGpuCatalogueEntry,
  matchesModelFilter,
  resolveGpuModel,
} from '../../src/domain/gpu-catalogue.js';

describe('resolveGpuModel', () => {
  it.each([
    // nvidia-smi names
    ['NVIDIA H100 80GB HBM3', undefined, 'H100-SXM-80GB'],
    ['NVIDIA H100 PCIe', undefined, 'H100-PCIE-80GB'],
    ['NVIDIA H100 NVL', undefined, 'H100-NVL-94GB'],
    ['NVIDIA H200', undefined, 'H200-SXM-141GB'],
    ['NVIDIA H200 NVL', undefined, 'H200-NVL-141GB'],
    ['NVIDIA B200', undefined, 'B200-SXM-180GB'],
    ['NVIDIA A100-SXM4-80GB', undefined, 'A100-SXM-80GB'],
    ['NVIDIA A100-SXM4-40GB', undefined, 'A100-SXM-40GB'],
    ['NVIDIA A100-PCIE-40GB', undefined, 'A100-PCIE-40GB'],
    ['NVIDIA A100 80GB PCIe', undefined, 'A100-PCIE-80GB'],
    ['NVIDIA L40S', undefined, 'L40S-48GB'],
    ['NVIDIA L40', undefined, 'L40-48GB'],
    ['NVIDIA L4', undefined, 'L4-24GB'],
    ['NVIDIA A10', undefined, 'A10-24GB'],
    ['NVIDIA A40', undefined, 'A40-48GB'],
    ['Tesla T4', undefined, 'T4-16GB'],
    ['Tesla V100-SXM2-16GB', undefined, 'V100-SXM-16GB'],
    ['Tesla V100-SXM2-32GB', undefined, 'V100-SXM-32GB'],
    ['Tesla V100-PCIE-32GB', undefined, 'V100-PCIE-32GB'],
    ['Tesla V100S-PCIE-32GB', undefined, 'V100S-PCIE-32GB'],
    ['NVIDIA RTX A6000', undefined, 'RTXA6000-48GB'],
    ['NVIDIA RTX A5000', undefined, 'RTXA5000-24GB'],
    ['NVIDIA RTX 6000 Ada Generation', undefined, 'RTX6000ADA-48GB'],
    ['NVIDIA GeForce RTX 4090', undefined, 'RTX4090-24GB'],
    ['NVIDIA GeForce RTX 4080', undefined, 'RTX4080-16GB'],
    ['NVIDIA GeForce RTX 3090', undefined, 'RTX3090-24GB'],
    ['NVIDIA GeForce RTX 3090 Ti', undefined, 'RTX3090TI-24GB'],
    ['NVIDIA GeForce RTX 5090', undefined, 'RTX5090-32GB'],
    ['  nvidia geforce rtx 4090  ', undefined, 'RTX4090-24GB'],
    // the memory size decides when the name omits it
    ['NVIDIA A100-SXM4', 81920, 'A100-SXM-80GB'],
    ['NVIDIA A100-SXM4', 40960, 'A100-SXM-40GB'],
    ['Tesla V100-SXM2', 32768, 'V100-SXM-32GB'],
    // lspci names
    ['GH100 [H100 SXM5 80GB]', undefined, 'H100-SXM-80GB'],
    ['AD102 [GeForce RTX 4090]', undefined, 'RTX4090-24GB'],
    ['GA102 [GeForce RTX 3090]', undefined, 'RTX3090-24GB'],
    ['AD102GL [L40S]', undefined, 'L40S-48GB'],
    ['GA100 [A100 PCIe 40GB]', undefined, 'A100-PCIE-40GB'],
  ])('%s (%s MiB) → %s', (name, vramMb, id) => {
    expect(resolveGpuModel(name, vramMb).id).toBe(id);
  });

  it.each([
    'NVIDIA GeForce RTX 4090 Laptop GPU',
    'NVIDIA GeForce RTX 4090 D',
    'NVIDIA GeForce RTX 4080 SUPER',
    'NVIDIA A10G',
    'NVIDIA GeForce GTX 1080 Ti',
    'Quadro RTX 8000',
    '',
  ])('%j is unknown and keeps the raw name', (name) => {
    const model = resolveGpuModel(name, 23028);
    expect(model).toMatchObject({ id: 'unknown', class: 'unknown', rawName: name.trim(), name: name.trim(), vramGb: 22, fp16Tflops: null });
  });

  it('returns the catalogue entry itself', () => {
    expect(resolveGpuModel('NVIDIA H100 80GB HBM3')).toBe(getGpuCatalogueEntry('h100-sxm-80gb'));
  });

  it('canonicalises names', () => {
    expect(canonicalGpuName('NVIDIA A100-SXM4-80GB')).toBe('A100 SXM4 80GB');
    expect(canonicalGpuName('NVIDIA GeForce RTX 3090 Ti')).toBe('RTX 3090 TI');
  });
});

describe('the catalogue table', () => {
  it('has unique ids, integer prices in base units and sane specs', () => {
    expect(new Set(GPU_CATALOGUE.map((e) => e.id)).size).toBe(GPU_CATALOGUE.length);
    for (const entry of GPU_CATALOGUE) {
      expect(entry.id).toMatch(/^[A-Z0-9]+(-[A-Z0-9]+)*-\d+GB$/);
      expect(entry.id.endsWith(`-${entry.vramGb}GB`)).toBe(true);
      expect(Number.isSafeInteger(entry.suggestedPricePerGpuHour)).toBe(true);
      expect(entry.suggestedPricePerGpuHour).toBeGreaterThan(0);
      expect(entry.fp16Tflops).toBeGreaterThan(0);
      expect(['datacenter', 'workstation', 'consumer']).toContain(entry.class);
    }
    expect(getGpuCatalogueEntry('H100-SXM-80GB')).toMatchObject({ vramGb: 80, fp16Tflops: 989.4, class: 'datacenter', suggestedPricePerGpuHour: 2_000_000 });
  });

  it('every entry resolves from its own name', () => {
    for (const entry of GPU_CATALOGUE) expect(resolveGpuModel(entry.name).id).toBe(entry.id);
  });
});

describe('matchesModelFilter', () => {
  const ids = (filter: string) => GPU_CATALOGUE.filter((e) => matchesModelFilter(e, filter)).map((e) => e.id);

  it.each([
    ['H100', ['H100-SXM-80GB', 'H100-NVL-94GB', 'H100-PCIE-80GB']],
    ['h100-sxm', ['H100-SXM-80GB']],
    ['H100-SXM-80GB', ['H100-SXM-80GB']],
    ['h100_pcie', ['H100-PCIE-80GB']],
    ['a100 80gb', ['A100-SXM-80GB', 'A100-PCIE-80GB']],
    ['4090', ['RTX4090-24GB']],
    ['rtx4090', ['RTX4090-24GB']],
    ['RTX 4090', ['RTX4090-24GB']],
    ['3090', ['RTX3090-24GB']],
    ['3090ti', ['RTX3090TI-24GB']],
    ['a6000', ['RTXA6000-48GB']],
    ['L4', ['L4-24GB']],
    ['l40', ['L40-48GB']],
    ['NVIDIA H100 80GB HBM3', ['H100-SXM-80GB']],
    ['NVIDIA GeForce RTX 4090', ['RTX4090-24GB']],
    ['mi300x', []],
  ])('%j matches %j', (filter, expected) => {
    expect(ids(filter)).toEqual(expected);
  });

  it('an empty filter matches everything', () => {
    expect(ids('  ')).toHaveLength(GPU_CATALOGUE.length);
  });

  it('unknown models match on their raw name', () => {
    const unknown = resolveGpuModel('NVIDIA A10G');
    expect(matchesModelFilter(unknown, 'a10g')).toBe(true);
    expect(matchesModelFilter(unknown, 'A10')).toBe(true);
    expect(matchesModelFilter(unknown, 'H100')).toBe(false);
  });

  it('a compiled filter gives the same answers', () => {
    const isH100 = compileModelFilter('h100');
    expect(GPU_CATALOGUE.filter(isH100).map((e) => e.id)).toEqual(ids('h100'));
  });
});
