// Typed coordinator client: signs requests when it has a keypair, adds Idempotency-Key to creates, maps HTTP errors to iocli errors.
import { randomUUID } from 'node:crypto';
import { ExitCode, ExternalError, UserError } from '../errors.js';
import { createSessionKeyPair, deriveSessionKey, HeartbeatSessionClient } from './heartbeat-session.js';
import type {
  ApiErrorBody,
  AssignmentsResponse,
  ChallengeAnswer,
  ChallengeCommit,
  ChallengeResult,
  ChallengeSamples,
  BondRequest,
  HeartbeatSession,
  NodeBond,
  NodeWhy,
  ProbeAnswer,
  ProbeResult,
  UnbondRequest,
  NodeDetail,
  Claim,
  CreateLeaseRequest,
  ExtendLeaseRequest,
  FaucetRequest,
  FaucetResponse,
  Health,
  HeartbeatRequest,
  HeartbeatResponse,
  Lease,
  LeasesResponse,
  LogsResponse,
  NetworkInfo,
  Node,
  OffersQuery,
  OffersResponse,
  Quote,
  QuoteRequest,
  RegisterNodeRequest,
  Rewards,
  StopLeaseResponse,
  UploadLogsRequest,
} from './schemas.js';
import { createSigner, type SigningKeypair } from './signing.js';
import { coordinatorUrls } from './coordinator-urls.js';
import { lightFetch, type FetchLike, type LightResponse } from '../http/light-fetch.js';

export interface ApiClientOptions {
  /**
   * The coordinator; several URLs, comma-separated, are replicas to fail over between. A request that cannot reach the
   * one in use goes to the next (a name that resolves to several addresses is tried address by address), and the client
   * stays with the one that answered. All must share one path prefix.
   */
  baseUrl: string;
  keypair?: SigningKeypair;
  /** Defaults to a node:http fetch-alike (the global fetch costs ~170 ms of start-up); the global fetch fits too. */
  fetch?: FetchLike;
  /** Per request; default 30 s. */
  timeoutMs?: number;
  /**
   * Node requests (heartbeat, assignments) over a heartbeat session: one ed25519-signed handshake per node, then an HMAC
   * per request (default on). Off, or against a coordinator without sessions, every request is signed.
   */
  heartbeatSessions?: boolean;
  /** The addresses a coordinator host name resolves to (default: the system resolver, every address). */
  resolveHost?: (host: string) => Promise<Array<{ address: string; family: number }>>;
}

export interface RequestOptions {
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface ApiClient {
  /** The first configured URL (the only one unless several were given). */
  readonly baseUrl: string;
  readonly publicKey?: string;
  health(): Promise<Health>;
  network(): Promise<NetworkInfo>;
  registerNode(body: RegisterNodeRequest, options?: RequestOptions): Promise<Node>;
  heartbeat(nodeId: string, body: HeartbeatRequest, options?: RequestOptions): Promise<HeartbeatResponse>;
  /** Long-poll: the node's assignments once they differ from version `after`, or after `waitMs` (≤ 25 s). */
  assignments(nodeId: string, query?: { after?: string; waitMs?: number }, options?: RequestOptions): Promise<AssignmentsResponse>;
  /** The owner's view of a node: status, GPUs, running leases. */
  node(nodeId: string, options?: RequestOptions): Promise<NodeDetail>;
  /** GPU challenge: commit one Merkle root per GPU; the reply holds the entries to open. */
  commitChallenge(nodeId: string, challengeId: string, body: ChallengeCommit, options?: RequestOptions): Promise<ChallengeSamples>;
  /** GPU challenge: the openings for the sampled entries; the reply is the verdict. */
  answerChallenge(nodeId: string, challengeId: string, body: ChallengeAnswer, options?: RequestOptions): Promise<ChallengeResult>;
  /** Answer a liveness probe of the node's running leases (the agent does this). */
  answerProbe(nodeId: string, probeId: string, body: ProbeAnswer, options?: RequestOptions): Promise<ProbeResult>;
  /** Why the node is not offered or not earning (owner only). */
  nodeWhy(nodeId: string, options?: RequestOptions): Promise<NodeWhy>;
  /** The node's bond per GPU (owner only). */
  nodeBond(nodeId: string, options?: RequestOptions): Promise<NodeBond>;
  /** Bond GPUs: without `payment` a 402 (PAYMENT_REQUIRED) names the amount and the memo reference to sign. */
  bond(nodeId: string, body: BondRequest, options?: RequestOptions): Promise<NodeBond>;
  /** Start the unbonding cooldown. */
  unbond(nodeId: string, body: UnbondRequest, options?: RequestOptions): Promise<NodeBond>;
  /** Open a heartbeat session by hand (heartbeat() does this by itself). */
  openHeartbeatSession(nodeId: string, publicKey: string, options?: RequestOptions): Promise<HeartbeatSession>;
  uploadLogs(nodeId: string, leaseId: string, body: UploadLogsRequest, options?: RequestOptions): Promise<{ ok: boolean }>;
  offers(query?: OffersQuery, options?: RequestOptions): Promise<OffersResponse>;
  quote(body: QuoteRequest, options?: RequestOptions): Promise<Quote>;
  createLease(body: CreateLeaseRequest, options?: RequestOptions): Promise<Lease>;
  leases(query?: { all?: boolean }, options?: RequestOptions): Promise<LeasesResponse>;
  lease(id: string, options?: RequestOptions): Promise<Lease>;
  leaseLogs(id: string, query?: { tail?: number; since?: number; encoding?: 'utf8' | 'base64' }, options?: RequestOptions): Promise<LogsResponse>;
  extendLease(id: string, body: ExtendLeaseRequest, options?: RequestOptions): Promise<Lease>;
  stopLease(id: string, options?: RequestOptions): Promise<StopLeaseResponse>;
  rewards(options?: RequestOptions): Promise<Rewards>;
  claimRewards(options?: RequestOptions): Promise<Claim>;
  /** Dev networks only: test tokens (and SOL) for an address. Unsigned. */
  faucet(body: FaucetRequest, options?: RequestOptions): Promise<FaucetResponse>;
}

/**
 * The coordinator URLs a client may use, in order, starting from the one that last answered. A URL whose host is a name
 * is expanded, once it fails, into one URL per address the name resolves to.
 */
function createReplicaList(spec: string, resolveHost?: ApiClientOptions['resolveHost']) {
  const configured = coordinatorUrls(spec);
  const candidates = [...configured];
  const expanded = new Set<string>();
  let active = 0;

  async function expand(url: string): Promise<void> {
    if (expanded.has(url)) return;
    expanded.add(url);
    const parsed = new URL(url);
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    const { isIP } = await import('node:net');
    if (isIP(host)) return;
    const resolve = resolveHost ?? (async (name: string) => (await import('node:dns/promises')).lookup(name, { all: true }));
    const addresses = await resolve(host).catch(() => []);
    const at = candidates.indexOf(url);
    const extra = addresses
      .map((a) => {
        const copy = new URL(url);
        copy.hostname = a.family === 6 ? `[${a.address}]` : a.address;
        return copy.toString().replace(/\/+$/, '');
      })
      .filter((u) => !candidates.includes(u));
    candidates.splice(at + 1, 0, ...extra);
  }

  return {
    first: configured[0]!,
    /** Try the active URL, then the others; a failure to connect (not an HTTP answer) moves on. */
    async send(attempt: (url: string) => Promise<LightResponse>, signal: AbortSignal): Promise<LightResponse> {
      let lastError: unknown;
      for (let tried = 0; tried < candidates.length; tried++) {
        const index = (active + tried) % candidates.length;
        const url = candidates[index]!;
        try {
          const response = await attempt(url);
          active = index;
          return response;
        } catch (error) {
          if (signal.aborted) throw error;
          lastError = error;
          await expand(url);
        }
      }
      throw lastError;
    },
  };
}

/** The error the client throws for a non-2xx answer; `status` and the server's `code` are kept for callers. */
export class ApiError extends UserError {
  constructor(
    readonly status: number,
    message: string,
    options: { code: string; hint?: string; details?: Record<string, unknown>; exitCode: (typeof ExitCode)[keyof typeof ExitCode] },
  ) {
    super(message, options);
    this.name = 'ApiError';
  }
}

function queryString(query: Record<string, string | number | boolean | undefined> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

const enc = encodeURIComponent;

export function createApiClient(options: ApiClientOptions): ApiClient {
  const replicas = createReplicaList(options.baseUrl, options.resolveHost);
  const baseUrl = replicas.first;
  const doFetch = options.fetch ?? lightFetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const sign = options.keypair ? createSigner(options.keypair) : undefined;
  const basePath = new URL(baseUrl).pathname.replace(/\/+$/, '');

  async function request<T>(method: 'GET' | 'POST', path: string, config: { body?: unknown; signed: boolean; idempotent?: boolean; session?: HeartbeatSessionClient } & RequestOptions): Promise<T> {
    const body = config.body === undefined ? (method === 'POST' ? '{}' : '') : JSON.stringify(config.body);
    if (config.signed && !config.session && !sign) throw new UserError('This request needs a wallet to sign it.', { code: 'KEYPAIR_REQUIRED', hint: 'Create one with `iocli wallet new` or pass --keypair PATH.' });
    const idempotencyKey = (config.idempotencyKey ?? config.idempotent) ? (config.idempotencyKey ?? randomUUID()) : undefined;
    // Built per attempt: a request sent again to another replica gets a fresh nonce (or session sequence number).
    const headers = (): Record<string, string> => {
      const out: Record<string, string> = { accept: 'application/json' };
      if (method === 'POST') out['content-type'] = 'application/json';
      if (config.session) Object.assign(out, config.session.headers(method, `${basePath}${path}`, body));
      else if (config.signed) Object.assign(out, sign!(method, `${basePath}${path}`, body));
      if (idempotencyKey) out['idempotency-key'] = idempotencyKey;
      return out;
    };
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = config.signal ? AbortSignal.any([config.signal, timeout]) : timeout;
    let response: LightResponse;
    try {
      response = await replicas.send((url) => doFetch(`${url}${path}`, { method, headers: headers(), body: method === 'POST' ? body : undefined, signal }), signal);
    } catch (error) {
      if (config.signal?.aborted) throw error;
      if (timeout.aborted) {
        throw new ExternalError(`The coordinator at ${baseUrl} did not answer within ${Math.round(timeoutMs / 1000)} s.`, { code: 'COORDINATOR_TIMEOUT', hint: 'Check the coordinator, or try again.', cause: error });
      }
      throw new ExternalError(`Cannot reach the coordinator at ${baseUrl}.`, {
        code: 'COORDINATOR_UNREACHABLE',
        hint: 'Start a local network with `iocli network up`, or point to another coordinator with --api-url.',
        cause: error,
      });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (response.ok) {
      if (parsed === undefined && text) throw new ExternalError(`The coordinator at ${baseUrl} answered ${method} ${path} with something that is not JSON.`, { code: 'COORDINATOR_BAD_RESPONSE' });
      // Trusted, not validated: the zod schemas would cost every CLI command ~270 ms of start-up (bench/startup.mjs).
      // The types are inferred from those schemas (src/api/schemas.ts), which the server's handlers are typed with too.
      return parsed as T;
    }
    throw toError(response.status, parsed as ApiErrorBody | undefined, `${method} ${path}`);
  }

  function toError(status: number, body: ApiErrorBody | undefined, what: string): Error {
    const error = body?.error;
    const message = error?.message ?? `The coordinator answered ${status} to ${what}.`;
    const code = error?.code ?? `HTTP_${status}`;
    const details = error?.details && typeof error.details === 'object' ? (error.details as Record<string, unknown>) : undefined;
    if (status >= 500 || status === 429) {
      return new ExternalError(message, { code, hint: error?.hint ?? (status === 429 ? 'Wait a moment and retry.' : 'The coordinator failed; try again later.'), details });
    }
    if (status === 401) {
      return new ApiError(status, message, { code, hint: error?.hint ?? (code === 'CLOCK_SKEW' ? 'Sync the system clock (e.g. enable NTP).' : 'Check the keypair in use (--keypair).'), details, exitCode: ExitCode.failure });
    }
    const exitCode = code === 'NO_CAPACITY' || status === 402 ? ExitCode.unavailable : ExitCode.failure;
    return new ApiError(status, message, { code, hint: error?.hint, details, exitCode });
  }

  // One session per node id; null means this coordinator has no sessions (every request is signed instead).
  const sessions = new Map<string, Promise<HeartbeatSessionClient | null>>();
  const useSessions = options.heartbeatSessions !== false && sign !== undefined;
  const RENEW_BEFORE_MS = 60_000;

  const openSession = (nodeId: string, publicKey: string, o?: RequestOptions) =>
    request<HeartbeatSession>('POST', `/v1/nodes/${enc(nodeId)}/sessions`, { body: { publicKey }, signed: true, signal: o?.signal });

  async function handshake(nodeId: string, signal?: AbortSignal): Promise<HeartbeatSessionClient | null> {
    const ours = createSessionKeyPair();
    try {
      const opened = await openSession(nodeId, ours.publicKey, { signal });
      return new HeartbeatSessionClient(opened.sessionId, deriveSessionKey(ours.privateKey, opened.publicKey, { sessionId: opened.sessionId, nodeId }), opened.expiresAt);
    } catch (error) {
      // An older coordinator without the route: fall back to signing every request.
      if (error instanceof ApiError && error.status === 404 && error.code === 'NOT_FOUND' && error.message.startsWith('No route')) return null;
      throw error;
    }
  }

  async function sessionFor(nodeId: string, signal?: AbortSignal): Promise<HeartbeatSessionClient | null> {
    const pending = sessions.get(nodeId);
    if (pending) {
      const current = await pending.catch(() => undefined);
      if (current === null) return null;
      if (current && current.expiresAt - Date.now() > RENEW_BEFORE_MS) return current;
      // Someone else already replaced it while we waited.
      if (sessions.get(nodeId) !== pending) return sessionFor(nodeId, signal);
    }
    const next = handshake(nodeId, signal);
    sessions.set(nodeId, next);
    next.catch(() => {
      if (sessions.get(nodeId) === next) sessions.delete(nodeId);
    });
    return next;
  }

  /** A node request over its session; the server forgetting or expiring the session costs one new handshake and a retry, a sequence number behind the server's costs a retry. */
  async function nodeRequest<T>(method: 'GET' | 'POST', nodeId: string, path: string, config: { body?: unknown } & RequestOptions): Promise<T> {
    if (!useSessions) return request<T>(method, path, { ...config, signed: true });
    for (let attempt = 0; ; attempt++) {
      const session = await sessionFor(nodeId, config.signal);
      if (!session) return request<T>(method, path, { ...config, signed: true });
      try {
        return await request<T>(method, path, { ...config, signed: false, session });
      } catch (error) {
        const code = error instanceof ApiError && error.status === 401 ? error.code : undefined;
        // A restarted coordinator, or another replica, accepts only numbers above what any process may have accepted.
        const nextSeq = code === 'SEQ_BEHIND' ? (error as ApiError).details?.nextSeq : undefined;
        if (attempt < 2 && typeof nextSeq === 'number') {
          session.skipTo(nextSeq);
          continue;
        }
        if (attempt > 1 || (code !== 'SESSION_UNKNOWN' && code !== 'SESSION_EXPIRED')) throw error;
        const pending = sessions.get(nodeId);
        if (pending && (await pending.catch(() => undefined)) === session) sessions.delete(nodeId);
      }
    }
  }

  return {
    baseUrl,
    publicKey: options.keypair?.publicKey,
    health: () => request('GET', '/healthz', { signed: false }),
    network: () => request('GET', '/v1/network', { signed: false }),
    registerNode: (body, o) => request('POST', '/v1/nodes', { body, signed: true, ...o }),
    heartbeat: (nodeId, body, o) => nodeRequest('POST', nodeId, `/v1/nodes/${enc(nodeId)}/heartbeat`, { body, ...o }),
    assignments: (nodeId, query, o) => nodeRequest('GET', nodeId, `/v1/nodes/${enc(nodeId)}/assignments${queryString(query)}`, { ...o }),
    node: (nodeId, o) => request('GET', `/v1/nodes/${enc(nodeId)}`, { signed: true, ...o }),
    commitChallenge: (nodeId, challengeId, body, o) => nodeRequest('POST', nodeId, `/v1/nodes/${enc(nodeId)}/challenges/${enc(challengeId)}/commit`, { body, ...o }),
    answerChallenge: (nodeId, challengeId, body, o) => nodeRequest('POST', nodeId, `/v1/nodes/${enc(nodeId)}/challenges/${enc(challengeId)}/answer`, { body, ...o }),
    answerProbe: (nodeId, probeId, body, o) => nodeRequest('POST', nodeId, `/v1/nodes/${enc(nodeId)}/probes/${enc(probeId)}`, { body, ...o }),
    nodeWhy: (nodeId, o) => request('GET', `/v1/nodes/${enc(nodeId)}/why`, { signed: true, ...o }),
    nodeBond: (nodeId, o) => request('GET', `/v1/nodes/${enc(nodeId)}/bond`, { signed: true, ...o }),
    bond: (nodeId, body, o) => request('POST', `/v1/nodes/${enc(nodeId)}/bond`, { body, signed: true, idempotent: true, ...o }),
    unbond: (nodeId, body, o) => request('POST', `/v1/nodes/${enc(nodeId)}/unbond`, { body, signed: true, ...o }),
    openHeartbeatSession: (nodeId, publicKey, o) => openSession(nodeId, publicKey, o),
    uploadLogs: (nodeId, leaseId, body, o) => request('POST', `/v1/nodes/${enc(nodeId)}/leases/${enc(leaseId)}/logs`, { body, signed: true, ...o }),
    offers: (query, o) => request('GET', `/v1/offers${queryString(query as Record<string, string | number | boolean | undefined>)}`, { signed: false, ...o }),
    quote: (body, o) => request('POST', '/v1/leases/quote', { body, signed: true, ...o }),
    createLease: (body, o) => request('POST', '/v1/leases', { body, signed: true, idempotent: true, ...o }),
    leases: (query, o) => request('GET', `/v1/leases${queryString({ all: query?.all ? true : undefined })}`, { signed: true, ...o }),
    lease: (id, o) => request('GET', `/v1/leases/${enc(id)}`, { signed: true, ...o }),
    leaseLogs: (id, query, o) => request('GET', `/v1/leases/${enc(id)}/logs${queryString(query)}`, { signed: true, ...o }),
    extendLease: (id, body, o) => request('POST', `/v1/leases/${enc(id)}/extend`, { body, signed: true, idempotent: true, ...o }),
    stopLease: (id, o) => request('POST', `/v1/leases/${enc(id)}/stop`, { signed: true, ...o }),
    rewards: (o) => request('GET', '/v1/rewards', { signed: true, ...o }),
    claimRewards: (o) => request('POST', '/v1/rewards/claim', { signed: true, idempotent: true, ...o }),
    faucet: (body, o) => request('POST', '/v1/faucet', { body, signed: false, ...o }),
  };
}
