// What a GPU must bond (src/coordinator/bonds.ts): per catalogue model, overrides, unknown and simulated GPUs.
import { describe, expect, it } from 'vitest';
import { bondPerGpu, bondTerms, DEFAULT_BOND_SETTINGS } from '../../src/coordinator/bonds.js';

describe('bond per GPU', () => {
  it.each([
    ['NVIDIA H100 80GB HBM3', false, {}, 48_000_000],
    ['NVIDIA GeForce RTX 4090', false, {}, 9_600_000],
    ['NVIDIA GeForce RTX 4090', false, { 'RTX4090-24GB': 5_000_000 }, 5_000_000],
    ['Some Future GPU 9000', false, {}, DEFAULT_BOND_SETTINGS.unknownPerGpu],
    ['NVIDIA H100 80GB HBM3', true, {}, DEFAULT_BOND_SETTINGS.simulatedPerGpu],
  ])('%s (simulated %s, overrides %j) bonds %i base units', (model, simulated, perGpu, expected) => {
    expect(bondPerGpu({ ...DEFAULT_BOND_SETTINGS, perGpu }, model, simulated)).toBe(expected);
  });

  it('announces every catalogue model, and requires bonds only off --dev', () => {
    const terms = bondTerms(DEFAULT_BOND_SETTINGS, false);
    expect(terms).toMatchObject({ required: true, cooldownMs: 7 * 86_400_000, slashBps: { failedChallenge: 1_000, nodeFault: 2_000, renterShare: 5_000 } });
    expect(terms.perGpu['H100-SXM-80GB']).toBe(48_000_000);
    expect(Object.values(terms.perGpu).every((amount) => amount > 0)).toBe(true);
    expect(bondTerms(DEFAULT_BOND_SETTINGS, true).required).toBe(false);
  });
});
