// Table tests of the pure reconciler: desired assignments + actual containers → actions and reports.
import { describe, expect, it } from 'vitest';
import {
  containerNameFor,
  nextStartFailure,
  reconcile,
  staleNetworks,
  type ActualContainer,
  type DesiredAssignment,
  type ReconcileInput,
} from '../../src/domain/reconcile.js';
import { buildNetworkCreateArgs, buildRunArgs } from '../../src/domain/docker-args.js';

const GPU0 = 'GPU-11111111-2222-3333-4444-555555555555';
const GPU1 = 'GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const NOW = Date.parse('2025-01-01T00:00:00Z');

function assignment(leaseId: string, extra: Partial<DesiredAssignment> = {}): DesiredAssignment {
  return { leaseId, image: 'busybox:latest', env: {}, ports: [], gpuUuids: [GPU0], endsAt: '2025-01-01T01:00:00Z', ...extra };
}

function container(leaseId: string, state: ActualContainer['state'], extra: Partial<ActualContainer> = {}): ActualContainer {
  return {
    id: `${leaseId}-${state}`,
    leaseId,
    state,
    running: state === 'running',
    exitCode: state === 'exited' ? 0 : null,
    createdAt: '2025-01-01T00:00:00Z',
    ...extra,
  };
}

function input(desired: DesiredAssignment[], actual: ActualContainer[], extra: Partial<ReconcileInput> = {}): ReconcileInput {
  return {
    nodeId: 'node-1',
    desired,
    actual,
    sharedGpuUuids: [GPU0, GPU1],
    simulated: false,
    limits: { memoryBytesPerGpu: 1024 ** 3, cpusPerGpu: 2, pidsLimit: 512, readOnlyRoot: false },
    now: NOW,
    ...extra,
  };
}

const summary = (plan: ReturnType<typeof reconcile>) => ({
  actions: plan.actions.map((a) => (a.kind === 'start' ? `start ${a.leaseId}` : `${a.kind} ${a.containerId} (${a.reason})`)),
  reports: plan.reports.map((r) => `${r.leaseId}:${r.state}${r.exitCode !== undefined ? `:${r.exitCode}` : ''}`),
});

describe('reconcile', () => {
  it.each([
    {
      name: 'nothing desired, nothing running',
      in: input([], []),
      actions: [],
      reports: [],
    },
    {
      name: 'new assignment starts',
      in: input([assignment('L1')], []),
      actions: ['start L1'],
      reports: ['L1:starting'],
    },
    {
      name: 'running assignment is left alone (re-adoption after restart)',
      in: input([assignment('L1')], [container('L1', 'running')]),
      actions: [],
      reports: ['L1:running'],
    },
    {
      name: 'exited assigned container is reported, not restarted',
      in: input([assignment('L1')], [container('L1', 'exited', { exitCode: 3 })]),
      actions: [],
      reports: ['L1:exited:3'],
    },
    {
      name: 'unassigned running container is stopped',
      in: input([], [container('L1', 'running')]),
      actions: ['stop L1-running (unassigned)'],
      reports: ['L1:stopped'],
    },
    {
      name: 'unassigned exited container is removed and its exit code reported',
      in: input([], [container('L1', 'exited', { exitCode: 137 })]),
      actions: ['remove L1-exited (unassigned)'],
      reports: ['L1:exited:137'],
    },
    {
      name: 'a created-but-never-started container is replaced',
      in: input([assignment('L1')], [container('L1', 'created')]),
      actions: ['remove L1-created (never-started)', 'start L1'],
      reports: ['L1:starting'],
    },
    {
      name: 'duplicates: the running one is kept',
      in: input([assignment('L1')], [container('L1', 'exited', { id: 'aaa' }), container('L1', 'running', { id: 'bbb' })]),
      actions: ['remove aaa (duplicate)'],
      reports: ['L1:running'],
    },
    {
      name: 'draining: nothing new starts, running stays',
      in: input([assignment('L1'), assignment('L2')], [container('L1', 'running')], { draining: true }),
      actions: [],
      reports: ['L1:running', 'L2:pending'],
    },
    {
      name: 'a GPU this node does not share is refused',
      in: input([assignment('L1', { gpuUuids: ['GPU-ffffffff-0000-0000-0000-000000000000'] })], []),
      actions: [],
      reports: ['L1:failed'],
    },
    {
      name: 'simulated nodes ignore GPU ids',
      in: input([assignment('L1', { gpuUuids: ['SIM-abc-0'] })], [], { simulated: true }),
      actions: ['start L1'],
      reports: ['L1:starting'],
    },
    {
      name: 'a failed start waits for its backoff',
      in: input([assignment('L1')], [], { failures: { L1: { attempts: 1, lastError: 'pull failed', retryAfter: NOW + 1000 } } }),
      actions: [],
      reports: ['L1:pending'],
    },
    {
      name: 'a failed start is retried after its backoff',
      in: input([assignment('L1')], [], { failures: { L1: { attempts: 1, lastError: 'pull failed', retryAfter: NOW - 1 } } }),
      actions: ['start L1'],
      reports: ['L1:starting'],
    },
    {
      name: 'after the last attempt the lease is reported failed',
      in: input([assignment('L1')], [], { failures: { L1: { attempts: 3, lastError: 'pull failed', retryAfter: 0 } } }),
      actions: [],
      reports: ['L1:failed'],
    },
    {
      name: 'mixed: stop one, keep one, start one; stops come before starts',
      in: input([assignment('L2'), assignment('L3', { gpuUuids: [GPU1] })], [container('L1', 'running'), container('L2', 'running')]),
      actions: ['stop L1-running (unassigned)', 'start L3'],
      reports: ['L2:running', 'L3:starting', 'L1:stopped'],
    },
  ])('$name', ({ in: given, actions, reports }) => {
    expect(summary(reconcile(given))).toEqual({ actions, reports });
  });

  it('builds a run spec with the security profile: only the leased GPUs, no network without ports or egress, node limits', () => {
    const plan = reconcile(input([assignment('L1', { env: { A: '1' }, command: ['sleep', '5'], egress: false })], []));
    const start = plan.actions[0]!;
    expect(start.kind).toBe('start');
    if (start.kind !== 'start') return;
    expect(start.spec).toMatchObject({
      leaseId: 'L1',
      nodeId: 'node-1',
      gpuUuids: [GPU0],
      network: 'none',
      memoryBytes: 1024 ** 3,
      cpus: 2,
      pidsLimit: 512,
      command: ['sleep', '5'],
      env: { A: '1' },
    });
    const args = buildRunArgs(start.spec);
    expect(args).toContain('--cap-drop');
    expect(args.join(' ')).toContain(`--gpus "device=${GPU0}"`);
  });

  it('scales the node limits with the number of leased GPUs', () => {
    const plan = reconcile(input([assignment('L1', { gpuUuids: [GPU0, GPU1] })], []));
    const start = plan.actions[0]!;
    if (start.kind !== 'start') throw new Error('expected a start');
    expect(start.spec).toMatchObject({ memoryBytes: 2 * 1024 ** 3, cpus: 4 });
  });

  it('uses the lease limits when given', () => {
    const plan = reconcile(input([assignment('L1', { ports: [8080], memoryBytes: 64 * 1024 ** 2, cpus: 0.5 })], []));
    const start = plan.actions[0]!;
    if (start.kind !== 'start') throw new Error('expected a start');
    expect(start.spec).toMatchObject({ network: 'lease', ports: [8080], memoryBytes: 64 * 1024 ** 2, cpus: 0.5 });
  });

  it.each([
    { ports: [], egress: undefined, network: 'lease' as const, internal: false },
    { ports: [], egress: true, network: 'lease' as const, internal: false },
    { ports: [], egress: false, network: 'none' as const, internal: false },
    { ports: [22], egress: undefined, network: 'lease' as const, internal: false },
    { ports: [22], egress: false, network: 'lease' as const, internal: true },
  ])('ports $ports, egress $egress → network $network (internal $internal)', ({ ports, egress, network, internal }) => {
    const plan = reconcile(input([assignment('L1', { ports, ...(egress === undefined ? {} : { egress }) })], []));
    const start = plan.actions[0]!;
    if (start.kind !== 'start') throw new Error('expected a start');
    expect(start.spec.network).toBe(network);
    const args = buildRunArgs(start.spec);
    expect(args).not.toContain('host');
    if (network === 'lease') expect(buildNetworkCreateArgs(start.spec).includes('--internal')).toBe(internal);
  });

  it('carries the lease’s user and the node’s ulimits into the run spec', () => {
    const ulimits = { memlock: 8 * 1024 ** 2, stack: 64 * 1024 ** 2, nofile: 20_000 };
    const limits = { memoryBytesPerGpu: 1024 ** 3, cpusPerGpu: 2, pidsLimit: 512, readOnlyRoot: false, ulimits };
    const plan = reconcile(input([assignment('L1', { user: { uid: 1000, gid: 100 } })], [], { limits }));
    const start = plan.actions[0]!;
    if (start.kind !== 'start') throw new Error('expected a start');
    expect(start.spec).toMatchObject({ user: { uid: 1000, gid: 100 }, ulimits });
    expect(buildRunArgs(start.spec).join(' ')).toContain('--user 1000:100');
  });

  it.each([
    { name: 'a network whose lease has a container stays', networks: ['L1'], containers: ['L1'], busy: [], stale: [] },
    { name: 'a network without a container goes', networks: ['L1', 'L2'], containers: ['L1'], busy: [], stale: ['L2-net'] },
    { name: 'a network of a lease being started stays', networks: ['L2'], containers: [], busy: ['L2'], stale: [] },
  ])('staleNetworks: $name', ({ networks, containers, busy, stale }) => {
    const actual = containers.map((leaseId) => ({ id: `c-${leaseId}`, leaseId, state: 'running' as const, running: true, exitCode: null }));
    expect(staleNetworks(networks.map((leaseId) => ({ name: `${leaseId}-net`, leaseId })), actual, new Set(busy))).toEqual(stale);
  });

  it.each([
    { lease: undefined, node: false, readOnly: false },
    { lease: false, node: false, readOnly: false },
    { lease: true, node: false, readOnly: true },
    // The node's policy is a floor: a lease cannot make the root writable where the provider made it read-only.
    { lease: false, node: true, readOnly: true },
  ])('read-only root: lease $lease, node $node → $readOnly', ({ lease, node, readOnly }) => {
    const limits = { memoryBytesPerGpu: 1024 ** 3, cpusPerGpu: 2, pidsLimit: 512, readOnlyRoot: node };
    const plan = reconcile(input([assignment('L1', lease === undefined ? {} : { readOnlyRoot: lease })], [], { limits }));
    const start = plan.actions[0]!;
    if (start.kind !== 'start') throw new Error('expected a start');
    expect(start.spec.readOnlyRoot).toBe(readOnly);
    const args = buildRunArgs(start.spec);
    expect(args.includes('--read-only')).toBe(readOnly);
    expect(args.some((a) => a.startsWith('/tmp:rw'))).toBe(readOnly);
  });

  it('never passes --gpus for simulated GPUs', () => {
    const plan = reconcile(input([assignment('L1', { gpuUuids: ['SIM-m-0', 'SIM-m-1'] })], [], { simulated: true }));
    const start = plan.actions[0]!;
    if (start.kind !== 'start') throw new Error('expected a start');
    expect(start.spec.gpuUuids).toEqual([]);
    expect(buildRunArgs(start.spec)).not.toContain('--gpus');
  });

  it('fails an assignment the workload rules refuse instead of trying to start it', () => {
    const plan = reconcile(input([assignment('L1', { env: { KEY: 'a\u0000b' } }), assignment('L2', { image: 'Upper/Case' })], []));
    expect(plan.actions).toEqual([]);
    expect(plan.reports.map((r) => [r.leaseId, r.state])).toEqual([['L1', 'failed'], ['L2', 'failed']]);
    expect(plan.reports[0]!.message).toMatch(/invalid workload: .*NUL/);
  });

  it('does not mutate its inputs', () => {
    const given = input([assignment('L1')], [container('L2', 'running')]);
    const copy = structuredClone(given);
    reconcile(given);
    expect(given).toEqual(copy);
  });

  it.each([
    ['L1', 'node-1', 'iocli-L1-node-1'],
    ['lease:abc', 'node:xyz', 'iocli-lease-abc-node-xyz'],
  ])('container name for %s on %s', (lease, node, name) => {
    expect(containerNameFor(lease, node)).toBe(name);
    expect(name).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/);
  });

  it('backs off exponentially, capped', () => {
    const first = nextStartFailure(undefined, 'x', 0);
    const second = nextStartFailure(first, 'y', 0);
    expect([first.attempts, first.retryAfter, second.attempts, second.retryAfter]).toEqual([1, 5000, 2, 20000]);
    let f = first;
    for (let i = 0; i < 10; i++) f = nextStartFailure(f, 'z', 0);
    expect(f.retryAfter).toBe(300_000);
  });
});
