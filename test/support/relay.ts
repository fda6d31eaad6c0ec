// A relay test bench: a real coordinator on 127.0.0.1:0, in-process provider agents (simulated GPUs, real Docker) that
// keep relay links, a renter wallet on disk, and the spawned iocli binary with byte-exact stdin/stdout/stderr.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiClient } from '../../src/api/client.js';
import type { CoordinatorOptions } from '../../src/coordinator/server.js';
import type { AgentEvent, AgentSummary } from '../../src/provider/agent.js';
import { writeKeypairFile, type Keypair } from '../../src/wallet/keypair.js';
import { startTestAgent } from './agent.js';
import { assertBuilt, BIN } from './cli.js';
import { newKeypair, startTestCoordinator, type EngineName, type TestCoordinator } from './coordinator.js';
import { removeContainersByLabel } from './docker.js';
import { waitFor } from './wait.js';

export interface BenchAgent {
  nodeId: string;
  owner: Keypair;
  events: AgentEvent[];
  stop(): Promise<AgentSummary>;
}

export interface RelayBench {
  coordinator: TestCoordinator;
  home: string;
  renter: Keypair;
  renterApi: ApiClient;
  renterKeyPath: string;
  agents: BenchAgent[];
  startAgent(options?: { machineId?: string; simulate?: string; owner?: Keypair; apiUrl?: string }): Promise<BenchAgent>;
  /** Env for the spawned binary: this coordinator, the renter's wallet, a throwaway config dir. */
  env(keyPath?: string): Record<string, string>;
  /** Quotes and creates a lease and waits until its container runs. */
  runningLease(request: { image: string; command: string[]; gpus?: number; ports?: number[]; multiNode?: boolean }, api?: ApiClient): Promise<string>;
  close(): Promise<void>;
}

export interface CliBytes {
  code: number;
  stdout: Buffer;
  stderr: Buffer;
  ms: number;
}

/** Runs the built binary with `input` as stdin (bytes) and resolves with the raw outputs and the exit code. */
export function iocli(args: string[], env: Record<string, string>, options: { input?: Buffer | string; timeoutMs?: number } = {}): Promise<CliBytes> {
  assertBuilt();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', CI: '1', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout: Buffer.concat(out), stderr: Buffer.concat(err), ms: performance.now() - started });
    });
    child.stdin.on('error', () => {});
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

export async function startRelayBench(engine: EngineName = 'sqlite', options: CoordinatorOptions = {}): Promise<RelayBench> {
  const coordinator = await startTestCoordinator(engine, { heartbeatGraceMs: 60_000, assignmentCacheMs: 0, ...options });
  const home = await mkdtemp(join(tmpdir(), 'iocli-relay-'));
  const renter = newKeypair();
  const renterKeyPath = join(home, 'renter.json');
  await writeKeypairFile(renterKeyPath, renter);
  const renterApi = coordinator.client(renter);
  const agents: BenchAgent[] = [];
  const dataDirs: string[] = [];

  const bench: RelayBench = {
    coordinator,
    home,
    renter,
    renterApi,
    renterKeyPath,
    agents,
    async startAgent(agentOptions = {}) {
      const owner = agentOptions.owner ?? newKeypair();
      const dataDir = await mkdtemp(join(tmpdir(), 'iocli-relay-agent-'));
      dataDirs.push(dataDir);
      const controller = new AbortController();
      const events: AgentEvent[] = [];
      let nodeId: string | undefined;
      const apiUrl = agentOptions.apiUrl ?? coordinator.url;
      const { createApiClient } = await import('../../src/api/client.js');
      const done = startTestAgent({
        api: createApiClient({ baseUrl: apiUrl, keypair: owner, timeoutMs: 20_000 }),
        apiUrl,
        machineId: agentOptions.machineId ?? `relay-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
        simulate: agentOptions.simulate ?? '2:RTX4090',
        dataDir,
        signal: controller.signal,
        events,
        onNodeId: (id) => (nodeId = id),
        relay: { keypair: owner, onEvent: (event) => events.push(event as unknown as AgentEvent) },
      });
      done.catch(() => {});
      await waitFor('the agent relay link', async () => nodeId && events.some((e) => (e as { type: string }).type === 'relay-connected'), { timeoutMs: 30_000 });
      const agent: BenchAgent = {
        nodeId: nodeId!,
        owner,
        events,
        stop: async () => {
          controller.abort();
          const summary = await done;
          await removeContainersByLabel(`iocli.node=${nodeId}`);
          return summary;
        },
      };
      agents.push(agent);
      return agent;
    },
    env: (keyPath = renterKeyPath) => ({
      HOME: home,
      IOCLI_CONFIG_DIR: join(home, 'config'),
      XDG_CONFIG_HOME: join(home, '.config'),
      IOCLI_API_URL: coordinator.url,
      IOCLI_KEYPAIR: keyPath,
    }),
    async runningLease(request, api = renterApi) {
      const quote = await api.quote({ gpus: request.gpus ?? 1, image: request.image, command: request.command, ports: request.ports, multiNode: request.multiNode });
      const lease = await api.createLease({ quoteId: quote.quoteId });
      await waitFor(`lease ${lease.id} running`, async () => (await api.lease(lease.id)).state === 'running', { timeoutMs: 30_000 });
      return lease.id;
    },
    async close() {
      for (const agent of agents.splice(0)) await agent.stop().catch(() => {});
      await coordinator.close();
      await rm(home, { recursive: true, force: true });
      for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
    },
  };
  return bench;
}
