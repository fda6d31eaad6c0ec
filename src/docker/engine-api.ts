// The few Docker Engine API calls the relay needs, over the daemon's unix socket with node:http: the CLI cannot give a
// hijacked exec stream with window resize and an exit code, and spawning `docker exec` per stream costs ~150 ms more.
// Host safety as in runtime.ts: only running containers labelled for this node and lease are ever found.
import { request, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ExternalError, UserError } from '../errors.js';
import { LABEL_LEASE, LABEL_MANAGED, LABEL_NODE } from '../domain/docker-args.js';

export interface EngineOptions {
  /** Default: DOCKER_HOST when it is unix://…, else /var/run/docker.sock. */
  socketPath?: string;
}

export interface ExecStart {
  command: string[];
  tty: boolean;
  stdin: boolean;
  cols?: number;
  rows?: number;
}

export interface EngineExec {
  id: string;
  /** The hijacked connection: writes go to the process's stdin; reads are raw (tty) or 8-byte-header multiplexed. */
  socket: Duplex;
  tty: boolean;
}

export function defaultSocketPath(): string {
  const host = process.env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  return '/var/run/docker.sock';
}

interface JsonResponse {
  status: number;
  body: unknown;
}

export interface DockerEngine {
  /** The id of the running container of `leaseId` on `nodeId`, or undefined. */
  findLeaseContainer(nodeId: string, leaseId: string): Promise<string | undefined>;
  inspect(containerId: string): Promise<Record<string, any>>;
  startExec(containerId: string, spec: ExecStart): Promise<EngineExec>;
  resizeExec(execId: string, cols: number, rows: number): Promise<void>;
  execExitCode(execId: string): Promise<number | null>;
}

export function createDockerEngine(options: EngineOptions = {}): DockerEngine {
  const socketPath = options.socketPath ?? defaultSocketPath();

  function call(method: string, path: string, body?: unknown): Promise<JsonResponse> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request({ socketPath, method, path, headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // Plain-text answers (errors from old daemons) stay text.
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`Docker API ${method} ${path} timed out`)));
      req.on('error', (error) => reject(new ExternalError(`Cannot reach the Docker daemon at ${socketPath}: ${error.message}`, { code: 'DOCKER_UNREACHABLE' })));
      req.end(payload);
    });
  }

  function failure(what: string, response: JsonResponse): ExternalError {
    const message = (response.body as { message?: string } | undefined)?.message ?? String(response.body ?? '');
    return new ExternalError(`Docker ${what} failed (${response.status}): ${message}`, { code: 'DOCKER_API' });
  }

  return {
    async findLeaseContainer(nodeId, leaseId) {
      const filters = JSON.stringify({ label: [`${LABEL_MANAGED}=true`, `${LABEL_NODE}=${nodeId}`, `${LABEL_LEASE}=${leaseId}`], status: ['running'] });
      const response = await call('GET', `/containers/json?filters=${encodeURIComponent(filters)}`);
      if (response.status !== 200) throw failure('container list', response);
      const list = response.body as Array<{ Id: string; Labels?: Record<string, string> }>;
      // The daemon filtered already; checking again costs nothing and keeps the guarantee local.
      return list.find((c) => c.Labels?.[LABEL_NODE] === nodeId && c.Labels?.[LABEL_LEASE] === leaseId)?.Id;
    },

    async inspect(containerId) {
      const response = await call('GET', `/containers/${encodeURIComponent(containerId)}/json`);
      if (response.status !== 200) throw failure('inspect', response);
      return response.body as Record<string, any>;
    },

    async startExec(containerId, spec) {
      const created = await call('POST', `/containers/${encodeURIComponent(containerId)}/exec`, {
        AttachStdin: spec.stdin,
        AttachStdout: true,
        AttachStderr: true,
        Tty: spec.tty,
        Cmd: spec.command,
        ...(spec.tty && spec.cols && spec.rows ? { ConsoleSize: [spec.rows, spec.cols] } : {}),
        ...(spec.tty ? { Env: ['TERM=xterm-256color'] } : {}),
      });
      if (created.status !== 201) throw failure('exec create', created);
      const id = (created.body as { Id: string }).Id;
      const socket = await new Promise<Duplex>((resolve, reject) => {
        const payload = Buffer.from(JSON.stringify({ Detach: false, Tty: spec.tty }));
        const req = request({
          socketPath,
          method: 'POST',
          path: `/exec/${id}/start`,
          headers: { 'content-type': 'application/json', 'content-length': payload.length, connection: 'Upgrade', upgrade: 'tcp' },
        });
        req.on('upgrade', (_res: IncomingMessage, hijacked: Duplex, head: Buffer) => {
          if (head.length > 0) hijacked.unshift(head);
          resolve(hijacked);
        });
        req.on('response', (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => reject(failure('exec start', { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })));
        });
        req.on('error', (error) => reject(new ExternalError(`Docker exec start failed: ${error.message}`, { code: 'DOCKER_API' })));
        req.end(payload);
      });
      return { id, socket, tty: spec.tty };
    },

    async resizeExec(execId, cols, rows) {
      const response = await call('POST', `/exec/${execId}/resize?h=${rows}&w=${cols}`);
      // 'process not running' races are harmless: the session is ending.
      if (response.status >= 500 && response.status !== 500) throw failure('exec resize', response);
    },

    async execExitCode(execId) {
      // The exec's state turns not-running a moment after its stream ends.
      for (let attempt = 0; attempt < 50; attempt++) {
        const response = await call('GET', `/exec/${execId}/json`);
        if (response.status !== 200) throw failure('exec inspect', response);
        const info = response.body as { Running: boolean; ExitCode: number | null };
        if (!info.Running) return info.ExitCode;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return null;
    },
  };
}

/**
 * Splits Docker's multiplexed exec output (8-byte header: stream type, 3 zero bytes, big-endian length) into frames.
 * Keeps at most one partial frame; the caller pauses the socket when its consumer is full.
 */
export function createDemuxer(onFrame: (stream: 1 | 2, payload: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const type = pending[0] === 2 ? 2 : 1;
      if (size > 0) onFrame(type, pending.subarray(8, 8 + size));
      pending = pending.subarray(8 + size);
    }
  };
}

export function notRunning(leaseId: string): UserError {
  return new UserError(`Lease ${leaseId} has no running container on this node.`, { code: 'LEASE_NOT_RUNNING_HERE' });
}
