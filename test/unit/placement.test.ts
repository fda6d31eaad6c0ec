import { describe, expect, it } from 'vitest';
import { placeLease, type PlacementNode } from '../../src/domain/placement.js';

function node(id: string, gpus: number, options: Partial<PlacementNode> & { model?: string; vramMb?: number } = {}): PlacementNode {
  const { model = 'NVIDIA RTX 4090', vramMb = 24_576, ...rest } = options;
  return {
    id,
    region: 'eu',
    pricePerGpuHour: 100,
    reliability: 0.5,
    verified: false,
    freeGpus: Array.from({ length: gpus }, (_, index) => ({ id: `${id}/${index}`, uuid: `${id}-${index}`, index, model, vramMb })),
    ...rest,
  };
}

describe('placeLease', () => {
  it.each([
    ['cheapest single node wins', [node('a', 8, { pricePerGpuHour: 200 }), node('b', 8, { pricePerGpuHour: 100 })], { gpus: 2 }, ['b']],
    ['reliability breaks price ties', [node('a', 8, { reliability: 0.4 }), node('b', 8, { reliability: 0.9 })], { gpus: 2 }, ['b']],
    ['tighter fit among equals keeps big nodes whole', [node('big', 8), node('small', 2)], { gpus: 2 }, ['small']],
    ['one node with N beats a cheaper split', [node('a', 1, { pricePerGpuHour: 10 }), node('b', 1, { pricePerGpuHour: 10 }), node('c', 2, { pricePerGpuHour: 50 })], { gpus: 2, multiNode: true }, ['c']],
    ['multiNode spans the cheapest nodes', [node('a', 2, { pricePerGpuHour: 10 }), node('b', 2, { pricePerGpuHour: 20 }), node('c', 2, { pricePerGpuHour: 30 })], { gpus: 3, multiNode: true }, ['a', 'b']],
    ['model matches by substring, case-insensitive', [node('a', 2, { model: 'NVIDIA A100' }), node('b', 2)], { gpus: 1, model: '4090' }, ['b']],
    ['region filter', [node('a', 2, { region: 'us' }), node('b', 2, { region: 'eu', pricePerGpuHour: 500 })], { gpus: 1, region: 'EU' }, ['b']],
  ])('%s', (_name, nodes, request, expected) => {
    const result = placeLease(nodes, request);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.allocations.map((a) => a.nodeId)).toEqual(expected);
  });

  it('allocates the requested count, lowest indexes first', () => {
    const result = placeLease([node('a', 4)], { gpus: 3 });
    expect(result).toEqual({ ok: true, allocations: [{ nodeId: 'a', gpuIds: ['a/0', 'a/1', 'a/2'], gpuUuids: ['a-0', 'a-1', 'a-2'], pricePerGpuHour: 100, region: 'eu' }] });
  });

  it('explains which filters excluded how many nodes, and the best alternative', () => {
    const nodes = [node('full', 0), node('a100', 4, { model: 'NVIDIA A100' }), node('dear', 4, { pricePerGpuHour: 1000 }), node('small', 2, { pricePerGpuHour: 90 }), node('us', 4, { region: 'us' })];
    const result = placeLease(nodes, { gpus: 3, model: '4090', maxPrice: 500, region: 'eu' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.explanation.nodesConsidered).toBe(5);
    expect(result.explanation.excluded).toEqual([
      { filter: 'free GPUs', nodes: 1 },
      { filter: 'model', nodes: 1 },
      { filter: 'region', nodes: 1 },
      { filter: 'maxPrice', nodes: 1 },
      { filter: 'gpus per node', nodes: 1 },
    ]);
    expect(result.explanation.bestAlternative).toMatchObject({ model: 'NVIDIA RTX 4090', freeGpus: 4 });
  });

  it('does not mutate its input', () => {
    const nodes = [node('a', 2), node('b', 2)];
    const copy = structuredClone(nodes);
    placeLease(nodes, { gpus: 3, multiNode: true });
    expect(nodes).toEqual(copy);
  });
});

describe('spreading concurrent requests', () => {
  const equal = ['a', 'b', 'c', 'd'].map((id) => node(id, 8));

  it('without a salt, equally good nodes are chosen by id (deterministic)', () => {
    const result = placeLease(equal, { gpus: 1 });
    expect(result.ok && result.allocations[0]!.nodeId).toBe('a');
  });

  it('with different salts, requests spread over equally good nodes, and one salt always picks the same node', () => {
    const chosen = Array.from({ length: 64 }, (_, i) => {
      const result = placeLease(equal, { gpus: 1, spreadSalt: `q_${i}` });
      return result.ok ? result.allocations[0]!.nodeId : undefined;
    });
    expect(new Set(chosen)).toEqual(new Set(['a', 'b', 'c', 'd']));
    const again = placeLease(equal, { gpus: 1, spreadSalt: 'q_7' });
    expect(again.ok && again.allocations[0]!.nodeId).toBe(chosen[7]);
  });

  it('the salt never outranks price or fit', () => {
    const nodes = [node('cheap', 8, { pricePerGpuHour: 1 }), node('dear', 8, { pricePerGpuHour: 2 }), node('tight', 1, { pricePerGpuHour: 1 })];
    for (let i = 0; i < 16; i++) {
      const result = placeLease(nodes, { gpus: 1, spreadSalt: `s${i}` });
      expect(result.ok && result.allocations[0]!.nodeId).toBe('tight');
    }
  });
});
