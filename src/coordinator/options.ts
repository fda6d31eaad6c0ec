// What startCoordinator accepts, and the one place its defaults are filled in.
import type { BondSettings } from './bonds.js';
import type { ChallengeSettings } from './challenges.js';
import type { EvidenceSettings } from './evidence.js';
import type { RateLimit } from './http/rate-limit.js';
import type { Faucet, PaymentVerifier, PayoutSender } from './hooks.js';
import type { RelayLimits } from './relay.js';

export interface NetworkOptions {
  cluster: string;
  rpcUrl: string;
  mint: string | null;
  decimals: number;
  treasury: string | null;
  /** Ticker of the payment token, for display. */
  symbol: string;
}

export interface CoordinatorOptions {
  port?: number;
  host?: string;
  /** SQLite data directory (ignored when databaseUrl is set). */
  dataDir?: string;
  databaseUrl?: string;
  /** Development mode: simulated GPUs and unpaid leases (without a payment verifier) are accepted. */
  dev?: boolean;
  network?: Partial<NetworkOptions>;
  feeBps?: number;
  heartbeatGraceMs?: number;
  /** How often buffered heartbeats are written (≤ 1 s). */
  heartbeatFlushMs?: number;
  sweepIntervalMs?: number;
  meteringIntervalMs?: number;
  quoteTtlMs?: number;
  /** GPUs one renter's live quotes may hold at once (default 64); quotes beyond it are priced but hold nothing. */
  quoteHoldsPerRenter?: number;
  assignmentCacheMs?: number;
  maxClockSkewMs?: number;
  /** How long a heartbeat session lasts before the agent must open a new one (default 1 h). */
  sessionTtlMs?: number;
  /**
   * Token buckets (false turns limiting off): per client address before authentication, on every route but /healthz
   * (default 1000/s, burst 2000), and per verified identity after a signature or session check (default 200/s, burst
   * 400); at most maxKeys buckets each (least recently used dropped first; default 100,000).
   */
  rateLimit?: { perAddress?: RateLimit; perIdentity?: RateLimit; maxKeys?: number } | false;
  /**
   * Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client, for the per-address limit and the
   * faucet's; without it every client behind a proxy shares the proxy's address. Default: none trusted.
   */
  trustedProxies?: string[];
  bodyLimitBytes?: number;
  /** How long an in-progress Idempotency-Key record holds without its process renewing it (default 60 s). */
  idempotencyClaimMs?: number;
  paymentVerifier?: PaymentVerifier;
  payoutSender?: PayoutSender;
  /** Dev only: hands out test tokens (the coordinator holds the mint authority). */
  faucet?: Faucet;
  /** Faucet grants per address and per client IP per minute (default 10). */
  faucetPerMinute?: number;
  /** How often payouts left open (failed send, crash) are retried (default 15 s). */
  payoutRetryMs?: number;
  /** GPU challenge timing (src/coordinator/challenges.ts). */
  challenges?: Partial<ChallengeSettings>;
  /** GPU bonds (src/coordinator/bonds.ts). */
  bonds?: Partial<BondSettings>;
  /** Liveness probes of running leases (src/coordinator/evidence.ts). */
  evidence?: Partial<EvidenceSettings>;
  maxConnections?: number;
  /** Relay (lease exec / port-forward) stream limits and idle timeout. */
  relayLimits?: Partial<RelayLimits>;
  /**
   * This replica's URL as the other replicas reach it: set it when several replicas share one PostgreSQL database, so a
   * renter's stream landing here is forwarded to the replica holding the agent's relay link.
   */
  replicaUrl?: string;
  now?: () => number;
  /** Background-task failures (the server keeps running). */
  onError?: (error: unknown, where: string) => void;
}

/** Rate limits with their defaults, or undefined when limiting is off. */
export interface RateLimits {
  perAddress: RateLimit;
  perIdentity: RateLimit;
  maxKeys: number;
}

/** The settings the HTTP layer and its timers run with: every default filled in. */
export interface CoordinatorConfig {
  dev: boolean;
  host: string;
  port: number;
  network: NetworkOptions;
  feeBps: number;
  heartbeatGraceMs: number;
  maxClockSkewMs: number;
  sessionTtlMs: number;
  rateLimits: RateLimits | undefined;
  bodyLimitBytes: number;
  idempotencyClaimMs: number;
  faucetPerMinute: number;
  heartbeatFlushMs: number;
  sweepIntervalMs: number;
  meteringIntervalMs: number;
  /** Undefined without a payout sender: nothing to retry. */
  payoutRetryMs: number | undefined;
}

export function coordinatorConfig(options: CoordinatorOptions): CoordinatorConfig {
  const dev = options.dev ?? false;
  const heartbeatGraceMs = options.heartbeatGraceMs ?? 30_000;
  return {
    dev,
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 8080,
    network: {
      cluster: options.network?.cluster ?? (dev ? 'localnet' : 'devnet'),
      rpcUrl: options.network?.rpcUrl ?? (dev ? 'http://127.0.0.1:8899' : 'https://api.devnet.solana.com'),
      mint: options.network?.mint ?? null,
      decimals: options.network?.decimals ?? 6,
      treasury: options.network?.treasury ?? null,
      symbol: options.network?.symbol ?? 'IOC',
    },
    feeBps: options.feeBps ?? 500,
    heartbeatGraceMs,
    maxClockSkewMs: options.maxClockSkewMs ?? 60_000,
    sessionTtlMs: options.sessionTtlMs ?? 60 * 60_000,
    rateLimits: options.rateLimit === false ? undefined : { perAddress: { perSecond: 1_000, burst: 2_000 }, perIdentity: { perSecond: 200, burst: 400 }, maxKeys: 100_000, ...options.rateLimit },
    bodyLimitBytes: options.bodyLimitBytes ?? 1024 * 1024,
    idempotencyClaimMs: options.idempotencyClaimMs ?? 60_000,
    faucetPerMinute: options.faucetPerMinute ?? 10,
    heartbeatFlushMs: Math.min(1_000, options.heartbeatFlushMs ?? 500),
    sweepIntervalMs: options.sweepIntervalMs ?? Math.max(50, Math.min(5_000, Math.floor(heartbeatGraceMs / 3))),
    meteringIntervalMs: options.meteringIntervalMs ?? 60_000,
    payoutRetryMs: options.payoutSender ? (options.payoutRetryMs ?? 15_000) : undefined,
  };
}

/** `http://host:port`, with an IPv6 host in brackets. */
export function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
