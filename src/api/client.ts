// Typed coordinator client: signs requests when it has a keypair, adds Idempotency-Key to creates, fails over between
// replicas (replica-list.ts), keeps heartbeat sessions (node-sessions.ts), maps HTTP errors to iocli errors
// (api-error.ts), and reads each answer as its operation's type (responses.ts), checked with zod when asked to.
import { randomUUID } from 'node:crypto';
import { ExternalError, UserError } from '../errors.js';
import { lightFetch, type FetchLike, type LightResponse } from '../http/light-fetch.js';
import { errorFromAnswer } from './api-error.js';
import type { HeartbeatSessionClient } from './heartbeat-session.js';
import { NodeSessions } from './node-sessions.js';
import { createReplicaList, type ResolveHost } from './replica-list.js';
import { ResponseShapeError, trustResponse, type Operation, type ResponseReader, type ResponseTypes } from './responses.js';
import type { CreateLeaseRequest, ExtendLeaseRequest, OffersQuery, QuoteRequest } from './schemas/leases.js';
import type { FaucetRequest } from './schemas/network.js';
import type { HeartbeatRequest, RegisterNodeRequest, UploadLogsRequest } from './schemas/nodes.js';
import type { BondRequest, ChallengeAnswer, ChallengeCommit, ProbeAnswer, UnbondRequest } from './schemas/provider-trust.js';
import { createSigner, type SigningKeypair } from './signing.js';

export { ApiError } from './api-error.js';

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
  resolveHost?: ResolveHost;
  /**
   * Check every answer against the shared zod schemas (src/api/response-schemas.ts, loaded on the first answer). Off by
   * default: zod costs a short CLI command more start-up than its request; long-running clients (the agent) turn it on.
   */
  validateResponses?: boolean;
}

export interface RequestOptions {
  idempotencyKey?: string;
  signal?: AbortSignal;
}

type Answer<Op extends Operation> = Promise<ResponseTypes[Op]>;

export interface ApiClient {
  /** The first configured URL (the only one unless several were given). */
  readonly baseUrl: string;
  readonly publicKey?: string;
  health(): Answer<'health'>;
  network(): Answer<'getNetwork'>;
  registerNode(body: RegisterNodeRequest, options?: RequestOptions): Answer<'registerNode'>;
  heartbeat(nodeId: string, body: HeartbeatRequest, options?: RequestOptions): Answer<'heartbeat'>;
  /** Long-poll: the node's assignments once they differ from version `after`, or after `waitMs` (≤ 25 s). */
  assignments(nodeId: string, query?: { after?: string; waitMs?: number }, options?: RequestOptions): Answer<'waitForAssignments'>;
  /** The owner's view of a node: status, GPUs, running leases. */
  node(nodeId: string, options?: RequestOptions): Answer<'getNode'>;
  /** GPU challenge: commit one Merkle root per GPU; the reply holds the entries to open. */
  commitChallenge(nodeId: string, challengeId: string, body: ChallengeCommit, options?: RequestOptions): Answer<'commitChallenge'>;
  /** GPU challenge: the openings for the sampled entries; the reply is the verdict. */
  answerChallenge(nodeId: string, challengeId: string, body: ChallengeAnswer, options?: RequestOptions): Answer<'answerChallenge'>;
  /** Answer a liveness probe of the node's running leases (the agent does this). */
  answerProbe(nodeId: string, probeId: string, body: ProbeAnswer, options?: RequestOptions): Answer<'answerProbe'>;
  /** Why the node is not offered or not earning (owner only). */
  nodeWhy(nodeId: string, options?: RequestOptions): Answer<'explainNode'>;
  /** The node's bond per GPU (owner only). */
  nodeBond(nodeId: string, options?: RequestOptions): Answer<'getNodeBond'>;
  /** Bond GPUs: without `payment` a 402 (PAYMENT_REQUIRED) names the amount and the memo reference to sign. */
  bond(nodeId: string, body: BondRequest, options?: RequestOptions): Answer<'bondNode'>;
  /** Start the unbonding cooldown. */
  unbond(nodeId: string, body: UnbondRequest, options?: RequestOptions): Answer<'unbondNode'>;
  /** Open a heartbeat session by hand (heartbeat() does this by itself). */
  openHeartbeatSession(nodeId: string, publicKey: string, options?: RequestOptions): Answer<'openHeartbeatSession'>;
  uploadLogs(nodeId: string, leaseId: string, body: UploadLogsRequest, options?: RequestOptions): Answer<'uploadLeaseLogs'>;
  offers(query?: OffersQuery, options?: RequestOptions): Answer<'listOffers'>;
  quote(body: QuoteRequest, options?: RequestOptions): Answer<'quoteLease'>;
  /** Free a quote's GPUs and make it unpayable (a declined rent); answers the same when repeated. */
  releaseQuote(quoteId: string, options?: RequestOptions): Answer<'releaseQuote'>;
  createLease(body: CreateLeaseRequest, options?: RequestOptions): Answer<'createLease'>;
  leases(query?: { all?: boolean }, options?: RequestOptions): Answer<'listLeases'>;
  lease(id: string, options?: RequestOptions): Answer<'getLease'>;
  leaseLogs(id: string, query?: { tail?: number; since?: number; encoding?: 'utf8' | 'base64' }, options?: RequestOptions): Answer<'getLeaseLogs'>;
  extendLease(id: string, body: ExtendLeaseRequest, options?: RequestOptions): Answer<'extendLease'>;
  stopLease(id: string, options?: RequestOptions): Answer<'stopLease'>;
  rewards(options?: RequestOptions): Answer<'getRewards'>;
  claimRewards(options?: RequestOptions): Answer<'claimRewards'>;
  /** Dev networks only: test tokens (and SOL) for an address. Unsigned. */
  faucet(body: FaucetRequest, options?: RequestOptions): Answer<'faucet'>;
}

function queryString(query: Readonly<Record<string, unknown>> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

const enc = encodeURIComponent;

interface RequestConfig extends RequestOptions {
  body?: unknown;
  signed: boolean;
  idempotent?: boolean;
  session?: HeartbeatSessionClient;
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const replicas = createReplicaList(options.baseUrl, options.resolveHost);
  const baseUrl = replicas.first;
  const doFetch = options.fetch ?? lightFetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const sign = options.keypair ? createSigner(options.keypair) : undefined;
  const basePath = new URL(baseUrl).pathname.replace(/\/+$/, '');
  let validator: Promise<ResponseReader> | undefined;
  const reader = async (): Promise<ResponseReader> => (options.validateResponses ? (validator ??= import('./response-schemas.js').then((m) => m.validateResponse)) : trustResponse);

  async function request<Op extends Operation>(operation: Op, method: 'GET' | 'POST' | 'DELETE', path: string, config: RequestConfig): Answer<Op> {
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
    if (!response.ok) throw errorFromAnswer(response.status, parsed, `${method} ${path}`);
    if (parsed === undefined && text) throw new ExternalError(`The coordinator at ${baseUrl} answered ${method} ${path} with something that is not JSON.`, { code: 'COORDINATOR_BAD_RESPONSE' });
    try {
      return (await reader())(operation, parsed);
    } catch (error) {
      if (!(error instanceof ResponseShapeError)) throw error;
      throw new ExternalError(`The coordinator at ${baseUrl} answered ${method} ${path} with an unexpected shape: ${error.message}`, { code: 'COORDINATOR_BAD_RESPONSE', hint: 'The coordinator may run another version of iocli.' });
    }
  }

  const openSession = (nodeId: string, publicKey: string, signal?: AbortSignal) =>
    request('openHeartbeatSession', 'POST', `/v1/nodes/${enc(nodeId)}/sessions`, { body: { publicKey }, signed: true, signal });
  const sessions = options.heartbeatSessions !== false && sign !== undefined ? new NodeSessions(openSession) : undefined;

  /** A node's own request: over its heartbeat session when there is one, else signed. */
  function nodeRequest<Op extends Operation>(operation: Op, method: 'GET' | 'POST', nodeId: string, path: string, config: { body?: unknown } & RequestOptions): Answer<Op> {
    if (!sessions) return request(operation, method, path, { ...config, signed: true });
    return sessions.send(nodeId, (session) => request(operation, method, path, session ? { ...config, signed: false, session } : { ...config, signed: true }), config.signal);
  }

  return {
    baseUrl,
    publicKey: options.keypair?.publicKey,
    health: () => request('health', 'GET', '/healthz', { signed: false }),
    network: () => request('getNetwork', 'GET', '/v1/network', { signed: false }),
    registerNode: (body, o) => request('registerNode', 'POST', '/v1/nodes', { body, signed: true, ...o }),
    heartbeat: (nodeId, body, o) => nodeRequest('heartbeat', 'POST', nodeId, `/v1/nodes/${enc(nodeId)}/heartbeat`, { body, ...o }),
    assignments: (nodeId, query, o) => nodeRequest('waitForAssignments', 'GET', nodeId, `/v1/nodes/${enc(nodeId)}/assignments${queryString(query)}`, { ...o }),
    node: (nodeId, o) => request('getNode', 'GET', `/v1/nodes/${enc(nodeId)}`, { signed: true, ...o }),
    commitChallenge: (nodeId, challengeId, body, o) => nodeRequest('commitChallenge', 'POST', nodeId, `/v1/nodes/${enc(nodeId)}/challenges/${enc(challengeId)}/commit`, { body, ...o }),
    answerChallenge: (nodeId, challengeId, body, o) => nodeRequest('answerChallenge', 'POST', nodeId, `/v1/nodes/${enc(nodeId)}/challenges/${enc(challengeId)}/answer`, { body, ...o }),
    answerProbe: (nodeId, probeId, body, o) => nodeRequest('answerProbe', 'POST', nodeId, `/v1/nodes/${enc(nodeId)}/probes/${enc(probeId)}`, { body, ...o }),
    nodeWhy: (nodeId, o) => request('explainNode', 'GET', `/v1/nodes/${enc(nodeId)}/why`, { signed: true, ...o }),
    nodeBond: (nodeId, o) => request('getNodeBond', 'GET', `/v1/nodes/${enc(nodeId)}/bond`, { signed: true, ...o }),
    bond: (nodeId, body, o) => request('bondNode', 'POST', `/v1/nodes/${enc(nodeId)}/bond`, { body, signed: true, idempotent: true, ...o }),
    unbond: (nodeId, body, o) => request('unbondNode', 'POST', `/v1/nodes/${enc(nodeId)}/unbond`, { body, signed: true, ...o }),
    openHeartbeatSession: (nodeId, publicKey, o) => openSession(nodeId, publicKey, o?.signal),
    uploadLogs: (nodeId, leaseId, body, o) => request('uploadLeaseLogs', 'POST', `/v1/nodes/${enc(nodeId)}/leases/${enc(leaseId)}/logs`, { body, signed: true, ...o }),
    offers: (query, o) => request('listOffers', 'GET', `/v1/offers${queryString(query)}`, { signed: false, ...o }),
    quote: (body, o) => request('quoteLease', 'POST', '/v1/leases/quote', { body, signed: true, ...o }),
    releaseQuote: (quoteId, o) => request('releaseQuote', 'DELETE', `/v1/quotes/${enc(quoteId)}`, { signed: true, ...o }),
    createLease: (body, o) => request('createLease', 'POST', '/v1/leases', { body, signed: true, idempotent: true, ...o }),
    leases: (query, o) => request('listLeases', 'GET', `/v1/leases${queryString({ all: query?.all ? true : undefined })}`, { signed: true, ...o }),
    lease: (id, o) => request('getLease', 'GET', `/v1/leases/${enc(id)}`, { signed: true, ...o }),
    leaseLogs: (id, query, o) => request('getLeaseLogs', 'GET', `/v1/leases/${enc(id)}/logs${queryString(query)}`, { signed: true, ...o }),
    extendLease: (id, body, o) => request('extendLease', 'POST', `/v1/leases/${enc(id)}/extend`, { body, signed: true, idempotent: true, ...o }),
    stopLease: (id, o) => request('stopLease', 'POST', `/v1/leases/${enc(id)}/stop`, { signed: true, ...o }),
    rewards: (o) => request('getRewards', 'GET', '/v1/rewards', { signed: true, ...o }),
    claimRewards: (o) => request('claimRewards', 'POST', '/v1/rewards/claim', { signed: true, idempotent: true, ...o }),
    faucet: (body, o) => request('faucet', 'POST', '/v1/faucet', { body, signed: false, ...o }),
  };
}
