// /metrics carries what an operator needs (outbox depth and age, payments, heartbeat lag, survived errors, database
// latency and errors, process and event-loop figures, build info) and passes `promtool check metrics` when installed.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';

const promtool = spawnSync('promtool', ['--version']).status === 0;

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.each(ENGINES)('operator metrics on %s', (engine) => {
  let coordinator: TestCoordinator;
  const errors: string[] = [];

  beforeAll(async () => {
    coordinator = await startTestCoordinator(engine, { onError: (_error, where) => errors.push(where) });
  });
  afterAll(async () => {
    await coordinator?.close();
  });

  it('reports holds, payments, the payout outbox, heartbeat lag, database latency, process figures and build info', async () => {
    const provider = coordinator.client(newKeypair());
    const node = await provider.registerNode(nodeSpec({ gpuCount: 2, machineId: `metrics-${engine}` }));
    await provider.heartbeat(node.id, { gpus: [], containers: [] });
    await coordinator.client(newKeypair()).quote({ gpus: 1, image: 'busybox' });
    await coordinator.server.sweep();
    const text = await (await fetch(`${coordinator.url}/metrics`)).text();
    expect(sample(text, 'iocli_gpus_held')).toBe(1);
    expect(sample(text, 'iocli_payments{state="pending"}')).toBe(0);
    expect(sample(text, 'iocli_payouts{kind="refund",state="pending"}')).toBe(0);
    expect(sample(text, 'iocli_payouts_open_oldest_age_seconds{kind="claim"}')).toBe(0);
    expect(sample(text, 'iocli_heartbeat_max_age_seconds')).toBeLessThan(30);
    expect(sample(text, 'iocli_db_query_duration_seconds_count')).toBeGreaterThan(5);
    expect(sample(text, 'iocli_db_errors_total')).toBe(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(sample(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(text).toMatch(/^nodejs_eventloop_delay_seconds\{stat="p99"\} [\d.e-]+$/m);
    expect(text).toMatch(/^iocli_build_info\{version="[^"]+",node="v\d+[^"]*",engine="(sqlite|postgres)"\} 1$/m);
    expect(text).toContain('# TYPE iocli_errors_total counter');
    expect(errors).toEqual([]);
  });

  it.skipIf(!promtool)('passes promtool check metrics', async () => {
    const text = await (await fetch(`${coordinator.url}/metrics`)).text();
    // promtool prints lint problems and exits non-zero; an empty output means clean.
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: result.status, output: `${result.stdout}${result.stderr}`.trim() }).toEqual({ status: 0, output: '' });
  });
});

