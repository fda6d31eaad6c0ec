// Hostile input against a real coordinator on both engines: control characters in identifiers and labels are a 400
// (never a 500 from PostgreSQL), log output is stored as bytes, and a container printing NUL keeps its node's heartbeats
// and its renter's logs working (real Docker, real PostgreSQL).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { AgentEvent } from '../../src/provider/agent.js';
import { ENGINES, newKeypair, nodeSpec, startTestCoordinator, type TestCoordinator } from '../support/coordinator.js';
import { ensureDocker } from '../support/docker.js';
import { startAgentBench, type AgentBench } from '../support/agent.js';
import { waitFor } from '../support/wait.js';

const hasDocker = await ensureDocker();

describe.each(ENGINES)('hostile input (%s)', (engine) => {
  let coordinator: TestCoordinator;
  let provider: ApiClient;
  let renter: ApiClient;

  beforeAll(async () => {
    coordinator = await startTestCoordinator(engine, { assignmentCacheMs: 0 });
    provider = coordinator.client(newKeypair());
    renter = coordinator.client(newKeypair());
  });
  afterAll(async () => {
    await coordinator?.close();
  });

  it.each([
    ['a NUL in the GPU model', { gpuCount: 1, model: 'RTX\u00004090' }],
    ['an escape sequence in the region', { region: 'eu\u001b]0;owned\u0007' }],
    ['a NUL in a GPU uuid', { gpus: [{ index: 0, uuid: 'GPU-\u0000', model: 'RTX 4090', vramMb: 24_576 }] }],
    ['a bidirectional override in the CPU model', { cpu: { model: 'Xeon\u202e', cores: 8 } }],
    ['a newline in the driver version', { driverVersion: '550\n' }],
  ])('refuses %s at registration with a 400', async (_what, overrides) => {
    await expect(provider.registerNode(nodeSpec(overrides))).rejects.toMatchObject({ status: 400 });
  });

  it('refuses ids in paths that are not ids (NUL) with a 400, signed or not', async () => {
    for (const call of [() => renter.lease('a\u0000b'), () => renter.leaseLogs('a\u0000b'), () => renter.stopLease('x\u0000'), () => provider.node('n\u0000'), () => provider.heartbeat('n\u0000', {})]) {
      await expect(call()).rejects.toMatchObject({ status: 400 });
    }
  });

  it('refuses control characters in offer filters and quotes with a 400', async () => {
    const response = await fetch(`${coordinator.url}/v1/offers?region=${encodeURIComponent('eu\u0000')}`);
    expect(response.status).toBe(400);
    const model = await fetch(`${coordinator.url}/v1/offers?model=${encodeURIComponent('RTX\u001b[2J')}`);
    expect(model.status).toBe(400);
    await expect(renter.quote({ gpus: 1, image: 'busybox:latest', model: 'RTX\u00004090' })).rejects.toMatchObject({ status: 400 });
    await expect(renter.quote({ gpus: 1, image: 'busybox:latest', region: 'eu\u0000' })).rejects.toMatchObject({ status: 400 });
  });

  it('refuses at quote time what the node would refuse (NUL in env or argv, an image docker rejects)', async () => {
    await provider.registerNode(nodeSpec({ gpuCount: 1 }));
    for (const bad of [{ env: { TOKEN: 'a\u0000b' } }, { command: ['sh', '-c', 'echo \u0000'] }, { image: 'Busybox:latest' }]) {
      await expect(renter.quote({ gpus: 1, image: 'busybox:latest', ...bad })).rejects.toMatchObject({ status: 400 });
    }
  });

  it('refuses to create a lease (before any payment) from a stored quote whose workload no node can run', async () => {
    await provider.registerNode(nodeSpec({ gpuCount: 1 }));
    const quote = await renter.quote({ gpus: 1, image: 'busybox:latest' });
    // A quote stored by an older coordinator, before the workload rules: the request holds a NUL in an env value.
    const db = (coordinator.server.service as unknown as { ctx: { db: import('kysely').Kysely<any> } }).ctx.db;
    await db.updateTable('quotes').set({ request: JSON.stringify({ gpus: 1, image: 'busybox:latest', hours: 1, env: { TOKEN: 'a\u0000b' }, ports: [] }) }).where('id', '=', quote.quoteId).execute();
    await expect(renter.createLease({ quoteId: quote.quoteId })).rejects.toMatchObject({ status: 422, code: 'WORKLOAD_INVALID' });
    expect((await renter.leases({ all: true })).leases.filter((l) => l.quoteId === quote.quoteId)).toEqual([]);
  });

  it('refuses a heartbeat whose GPU uuid holds a control character, and cleans a container report', async () => {
    const node = await provider.registerNode(nodeSpec({ gpuCount: 1 }));
    await expect(provider.heartbeat(node.id, { gpus: [{ uuid: 'GPU-\u0000', utilization: 1 }] })).rejects.toMatchObject({ status: 400 });
    await expect(provider.heartbeat(node.id, { gpus: [{ uuid: 'GPU-x' }], containers: [{ leaseId: 'lease_none', state: 'failed', message: 'bad\u0000byte' }] })).resolves.toBeDefined();
  });

  it('stores log output as bytes: NUL and invalid UTF-8 come back exactly, text readers get UTF-8', async () => {
    await provider.registerNode(nodeSpec({ gpuCount: 1 }));
    const quote = await renter.quote({ gpus: 1, image: 'busybox:latest' });
    const lease = await renter.createLease({ quoteId: quote.quoteId });
    const node = { id: lease.allocations[0]!.nodeId };
    const bytes = Buffer.from([0x68, 0x69, 0x00, 0xff, 0x1b, 0x5b, 0x32, 0x4a, 0x0a]);
    await provider.uploadLogs(node.id, lease.id, { chunks: [{ stream: 'stdout', data: bytes.toString('base64'), encoding: 'base64' }] });
    // An older agent's text chunk with a NUL is stored too (PostgreSQL text would refuse it).
    await provider.uploadLogs(node.id, lease.id, { chunks: [{ stream: 'stderr', data: 'old\u0000agent\n' }] });
    await expect(provider.uploadLogs(node.id, lease.id, { chunks: [{ stream: 'stdout', data: 'not base64!', encoding: 'base64' }] })).rejects.toMatchObject({ status: 400 });

    const exact = await renter.leaseLogs(lease.id, { encoding: 'base64' });
    expect(exact.entries.map((e) => [e.stream, Buffer.from(e.data, 'base64')])).toEqual([
      ['stdout', bytes],
      ['stderr', Buffer.from('old\u0000agent\n')],
    ]);
    const text = await renter.leaseLogs(lease.id);
    expect(text.entries.map((e) => e.data)).toEqual(['hi\u0000\ufffd\u001b[2J\n', 'old\u0000agent\n']);
  });
});

describe.skipIf(!hasDocker)('a container printing NUL on PostgreSQL (real agent, real Docker)', () => {
  let bench: AgentBench;
  let renter: ApiClient;
  let image: string;
  let events: AgentEvent[];

  beforeAll(async () => {
    bench = await startAgentBench({
      engine: 'postgres',
      dataDirPrefix: 'iocli-nul-agent-',
      machineId: `nul-agent-${process.pid}-${Date.now().toString(36)}`,
      simulate: '1:RTX4090',
    });
    ({ image, events } = bench);
    renter = bench.coordinator.client(newKeypair());
  });
  afterAll(async () => {
    await bench?.close();
  });

  // Docker's json-file log driver itself turns invalid UTF-8 into U+FFFD, so the agent sees (and ships) only valid UTF-8 + NUL.
  it('keeps heartbeats succeeding and returns the exact bytes to the renter', async () => {
    const quote = await renter.quote({ gpus: 1, image, command: ['sh', '-c', "printf 'before\\000after\\033[2J\\n'; echo second line; sleep 600"] });
    const lease = await renter.createLease({ quoteId: quote.quoteId });
    const entries = await waitFor('the logs to reach the renter', async () => {
      const { entries } = await renter.leaseLogs(lease.id, { encoding: 'base64' });
      const all = Buffer.concat(entries.map((e) => Buffer.from(e.data, 'base64')));
      return all.includes(Buffer.from('second line')) && all;
    }, { timeoutMs: 20_000 });
    expect(entries).toEqual(Buffer.from([...Buffer.from('before'), 0, ...Buffer.from('after'), 0x1b, ...Buffer.from('[2J'), 0x0a, ...Buffer.from('second line\n')]));

    // Every heartbeat after the NUL line succeeds: none failed, and more keep arriving.
    const seen = events.filter((e) => e.type === 'heartbeat').length;
    await waitFor('more heartbeats', async () => events.filter((e) => e.type === 'heartbeat').length >= seen + 4);
    expect(events.filter((e) => e.type === 'heartbeat-failed')).toEqual([]);
    expect(events.filter((e) => e.type === 'warning' && /logs/.test(e.message))).toEqual([]);
    expect((await renter.lease(lease.id)).state).toBe('running');
    await renter.stopLease(lease.id);
  }, 60_000);
});
