import { describe, expect, it } from 'vitest';
import { heartbeatSchema } from '../../src/api/schemas/nodes.js';
import { parseQuietHeartbeat } from '../../src/coordinator/heartbeat-input.js';

const gpu = (extra: Record<string, unknown> = {}) => ({ uuid: 'GPU-1', utilization: 50, memoryUsedMb: 1000, temperatureC: 60, ...extra });

// [name, body, fast path expected to take it]
const cases: Array<[string, unknown, boolean]> = [
  ['agent telemetry', { gpus: [gpu(), gpu({ uuid: 'GPU-2' })], containers: [] }, true],
  ['empty object (defaults)', {}, true],
  ['no containers key', { gpus: [gpu()] }, true],
  ['draining true', { gpus: [], containers: [], draining: true }, true],
  ['draining false', { draining: false }, true],
  ['all telemetry fields', { gpus: [gpu({ powerW: 300 })] }, true],
  ['uuid only', { gpus: [{ uuid: 'x' }] }, true],
  ['keys out of schema order', { containers: [], gpus: [{ temperatureC: -5, uuid: 'u', powerW: 0, utilization: 0 }] }, true],
  ['bounds: utilization 100, uuid 128 chars', { gpus: [{ uuid: 'u'.repeat(128), utilization: 100, memoryUsedMb: 0 }] }, true],
  ['64 gpus', { gpus: Array.from({ length: 64 }, (_, i) => gpu({ uuid: `g${i}` })) }, true],
  ['negative zero', { gpus: [gpu({ utilization: -0, memoryUsedMb: -0 })] }, true],
  // Valid, but taken by the schema (the fast path declines).
  ['unknown top-level key (stripped)', { gpus: [], extra: 1 }, false],
  ['unknown gpu key (stripped)', { gpus: [gpu({ fan: 3 })] }, false],
  ['a container report', { containers: [{ leaseId: 'ls_abcdefghijklmnop', state: 'running' }] }, false],
  ['verification', { verification: { kind: 'simulated' } }, false],
  ['logs', { logs: [{ leaseId: 'ls_abcdefghijklmnop', data: 'x' }] }, false],
  // Invalid.
  ['null body', null, false],
  ['array body', [], false],
  ['string body', 'x', false],
  ['number body', 3, false],
  ['gpus not an array', { gpus: {} }, false],
  ['gpus null', { gpus: null }, false],
  ['65 gpus', { gpus: Array.from({ length: 65 }, (_, i) => gpu({ uuid: `g${i}` })) }, false],
  ['gpu not an object', { gpus: [1] }, false],
  ['gpu null', { gpus: [null] }, false],
  ['gpu array', { gpus: [[]] }, false],
  ['missing uuid', { gpus: [{ utilization: 1 }] }, false],
  ['empty uuid', { gpus: [{ uuid: '' }] }, false],
  ['uuid 129 chars', { gpus: [{ uuid: 'u'.repeat(129) }] }, false],
  ['uuid number', { gpus: [{ uuid: 5 }] }, false],
  ['utilization 101', { gpus: [gpu({ utilization: 101 })] }, false],
  ['utilization -1', { gpus: [gpu({ utilization: -1 })] }, false],
  ['utilization string', { gpus: [gpu({ utilization: '50' })] }, false],
  ['utilization null', { gpus: [gpu({ utilization: null })] }, false],
  ['memoryUsedMb negative', { gpus: [gpu({ memoryUsedMb: -1 })] }, false],
  ['temperatureC string', { gpus: [gpu({ temperatureC: '60' })] }, false],
  ['temperatureC Infinity', { gpus: [gpu({ temperatureC: Infinity })] }, false],
  ['temperatureC NaN', { gpus: [gpu({ temperatureC: NaN })] }, false],
  ['powerW negative', { gpus: [gpu({ powerW: -0.5 })] }, false],
  ['powerW undefined', { gpus: [gpu({ powerW: undefined })] }, false],
  ['containers not an array', { containers: {} }, false],
  ['container invalid', { containers: [{ leaseId: 'x', state: 'nope' }] }, false],
  ['draining string', { draining: 'yes' }, false],
  ['draining null', { draining: null }, false],
  ['verification invalid', { verification: { kind: 'nope' } }, false],
  ['object with a prototype', Object.create({ gpus: [] }), false],
];

describe('parseQuietHeartbeat', () => {
  it.each(cases)('%s: same verdict and output as heartbeatSchema', (_name, body, fast) => {
    const quick = parseQuietHeartbeat(body);
    const zod = heartbeatSchema.safeParse(body);
    expect(quick !== undefined).toBe(fast);
    if (quick !== undefined) {
      expect(zod.success).toBe(true);
      expect(quick).toStrictEqual(zod.data);
      // Same key order too: telemetry is stored as this JSON.
      expect(JSON.stringify(quick)).toBe(JSON.stringify(zod.data));
    }
  });

  it('takes the fast path only for bodies the schema accepts with the same output (random bodies)', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const pick = <T>(values: T[]) => values[Math.floor(rand() * values.length)]!;
    const values = [0, -0, 1, 50, 100, 100.5, 101, -1, -0.1, 1e9, NaN, Infinity, -Infinity, '1', '', 'u', null, true, false, [], {}, undefined, 'u'.repeat(128), 'u'.repeat(129)];
    const keys = ['uuid', 'utilization', 'memoryUsedMb', 'temperatureC', 'powerW', 'other'];
    let accepted = 0;
    for (let i = 0; i < 5_000; i++) {
      const gpus = Array.from({ length: Math.floor(rand() * 4) }, () => Object.fromEntries(keys.filter(() => rand() < 0.6).map((k) => [k, k === 'uuid' && rand() < 0.7 ? 'GPU-1' : pick(values)])));
      const body: Record<string, unknown> = {};
      if (rand() < 0.9) body.gpus = rand() < 0.95 ? gpus : pick(values);
      if (rand() < 0.5) body.containers = rand() < 0.9 ? [] : pick(values);
      if (rand() < 0.2) body.draining = pick(values);
      const quick = parseQuietHeartbeat(body);
      if (quick === undefined) continue;
      accepted++;
      const zod = heartbeatSchema.safeParse(body);
      expect(zod.success).toBe(true);
      expect(JSON.stringify(quick)).toBe(JSON.stringify(zod.data));
      expect(quick).toStrictEqual(zod.data);
    }
    expect(accepted).toBeGreaterThan(100);
  });
});
