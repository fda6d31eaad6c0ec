// The coordinator's business logic over the store, as the one object the server, tests and benches use. No HTTP here.
// Each part (nodes, heartbeats, offers, quotes, leases, logs, metering, payments, rewards, sweep, gauges) lives in its
// own module; this facade builds the shared CoordinatorContext once and hands it to them.
import { randomUUID } from 'node:crypto';
import type { ChallengeAnswer, ChallengeCommit, ChallengeResult, ChallengeSamples, NodeBond, NodeWhy, ProbeAnswer, ProbeResult } from '../api/schemas/provider-trust.js';
import type { Lease, LogsResponse, Offer, QuoteInput, Quote, QuoteRelease } from '../api/schemas/leases.js';
import type { Assignment, HeartbeatInput, Node, NodeDetail, RegisterNodeInput } from '../api/schemas/nodes.js';
import type { Claim, Rewards } from '../api/schemas/rewards.js';
import type { PlacementRequest, PlacementResult } from '../domain/placement.js';
import { AssignmentBoard } from './assignments.js';
import type { CoordinatorContext, ServiceOptions } from './context.js';
import type { Db, Engine } from './db.js';
import * as bonds from './bonds.js';
import * as challenges from './challenges.js';
import * as evidence from './evidence.js';
import * as gauges from './gauges.js';
import { HeartbeatBuffer } from './heartbeat-buffer.js';
import * as heartbeats from './heartbeats.js';
import * as leaseViews from './lease-views.js';
import * as leases from './leases.js';
import * as logs from './logs.js';
import * as nodes from './nodes.js';
import * as why from './node-why.js';
import * as offers from './offers.js';
import * as payments from './payments.js';
import { PayoutOutbox } from './payouts.js';
import * as quotes from './quotes.js';
import * as rewards from './rewards.js';
import * as sweeping from './sweep.js';

export type { ServiceOptions } from './context.js';

export class CoordinatorService {
  /** Claims and refunds on chain; absent when no payout sender is configured. */
  readonly payouts: PayoutOutbox | undefined;
  private readonly ctx: CoordinatorContext;
  /** Probes this replica is checking through the relay right now. */
  private readonly probeChecks = new Set<string>();

  constructor(
    readonly engine: Engine,
    readonly options: ServiceOptions,
  ) {
    const onError = options.onError ?? ((error: unknown, where: string) => process.stderr.write(`coordinator ${where}: ${(error as Error)?.message ?? String(error)}\n`));
    this.payouts = options.payoutSender ? new PayoutOutbox(engine, { sender: options.payoutSender, now: options.now, onError }) : undefined;
    this.ctx = {
      engine,
      db: engine.db,
      options,
      payouts: this.payouts,
      nodeCache: new Map(),
      assignments: new AssignmentBoard(engine.db, options),
      heartbeats: new HeartbeatBuffer(engine),
    };
  }

  // ---------------------------------------------------------------- nodes

  registerNode(owner: string, input: RegisterNodeInput): Promise<Node> {
    return nodes.registerNode(this.ctx, owner, input);
  }

  /** The owner's view of one node: status, GPUs and the leases it runs. */
  nodeDetail(nodeId: string, actor: string): Promise<NodeDetail> {
    return nodes.nodeDetail(this.ctx, nodeId, actor);
  }

  /** Throws unless `actor` owns the node (404 for an unknown node). */
  async requireNodeOwner(nodeId: string, actor: string): Promise<void> {
    await nodes.nodeFor(this.ctx, nodeId, actor);
  }

  // ---------------------------------------------------------------- GPU challenges and `provide why`

  /** Issue a GPU challenge to the node now (unless one is open); returns its id. */
  issueChallenge(nodeId: string, reason: string): Promise<string> {
    return challenges.issueChallenge(this.ctx, nodeId, reason);
  }

  commitChallenge(nodeId: string, actor: string, challengeId: string, body: ChallengeCommit): Promise<ChallengeSamples> {
    return challenges.commitChallenge(this.ctx, nodeId, actor, challengeId, body);
  }

  answerChallenge(nodeId: string, actor: string, challengeId: string, body: ChallengeAnswer): Promise<ChallengeResult> {
    return challenges.answerChallenge(this.ctx, nodeId, actor, challengeId, body);
  }

  /** Probe the node's running leases now (the sweep does it at random times); null when nothing runs. */
  issueProbe(nodeId: string): Promise<string | null> {
    return evidence.issueProbe(this.ctx, nodeId);
  }

  /** Check open probes from inside their containers, through this replica's relay links; returns how many closed. */
  checkProbesThroughRelay(relay: evidence.LeaseExec): Promise<number> {
    return evidence.checkProbesThroughRelay(this.ctx, relay, this.probeChecks);
  }

  /** The agent's answer to a liveness probe; a failed or late one stops accrual until a later probe passes. */
  answerProbe(nodeId: string, actor: string, probeId: string, body: ProbeAnswer): Promise<ProbeResult> {
    return evidence.answerProbe(this.ctx, nodeId, actor, probeId, body);
  }

  /** The node's bond per GPU (owner only). */
  nodeBond(nodeId: string, actor: string): Promise<NodeBond> {
    return bonds.nodeBond(this.ctx, nodeId, actor);
  }

  /** Bond the node's unbonded GPUs with a verified transfer (402 names the amount when no payment is given). */
  bond(nodeId: string, actor: string, input: { gpus?: string[]; reference?: string; payment?: { transaction: string } }): Promise<NodeBond> {
    return bonds.bondGpus(this.ctx, nodeId, actor, input);
  }

  /** Start the cooldown of the node's bonds; the sweep returns them once it ends and no lease holds the GPU. */
  unbond(nodeId: string, actor: string, input: { gpus?: string[] }): Promise<NodeBond> {
    return bonds.unbondGpus(this.ctx, nodeId, actor, input);
  }

  /** Why the node is not offered or not earning, with the next step for each reason (owner only). */
  explainNode(nodeId: string, actor: string): Promise<NodeWhy> {
    return why.explainNode(this.ctx, nodeId, actor);
  }

  // ---------------------------------------------------------------- heartbeats

  /**
   * Record a heartbeat and return the node's desired state. Liveness/telemetry is buffered (flushHeartbeats);
   * lease transitions the heartbeat reveals are written at once.
   */
  heartbeat(nodeId: string, actor: string, input: HeartbeatInput): Promise<{ assignments: Assignment[]; version: string }> {
    return heartbeats.recordHeartbeat(this.ctx, nodeId, actor, input);
  }

  /** The common heartbeat handled without a promise; its reply as JSON, or undefined when `heartbeat` must handle it. */
  quietHeartbeat(nodeId: string, actor: string, input: HeartbeatInput): string | undefined {
    return heartbeats.recordQuietHeartbeat(this.ctx, nodeId, actor, input);
  }

  /** Long-poll: the node's assignments as soon as they differ from version `after`, or at `waitMs`. */
  waitForAssignments(nodeId: string, actor: string, after: string | undefined, waitMs: number, signal?: AbortSignal): Promise<{ assignments: Assignment[]; version: string }> {
    return heartbeats.waitForAssignments(this.ctx, nodeId, actor, after, waitMs, signal);
  }

  /** Burn a request nonce in the database (so no restart or replica accepts it again). Returns false on replay. */
  useNonce(pubkey: string, nonce: string, expiresAt: number): Promise<boolean> {
    return this.ctx.heartbeats.useNonce(pubkey, nonce, expiresAt);
  }

  /** Write buffered heartbeats (last seen, telemetry) in one batch. */
  flushHeartbeats(): Promise<number> {
    return this.ctx.heartbeats.flush();
  }

  // ---------------------------------------------------------------- logs

  uploadLogs(nodeId: string, actor: string, leaseId: string, chunks: logs.LogChunk[]): Promise<void> {
    return logs.uploadLogs(this.ctx, nodeId, actor, leaseId, chunks);
  }

  leaseLogs(renter: string, leaseId: string, query: { tail?: number; since?: number; encoding?: 'utf8' | 'base64' }): Promise<LogsResponse> {
    return logs.leaseLogs(this.ctx, renter, leaseId, query);
  }

  // ---------------------------------------------------------------- offers, quotes and leases

  offers(query: offers.OffersQuery): Promise<Offer[]> {
    return offers.listOffers(this.ctx, query);
  }

  /** Find a placement through the store (`db` may be a transaction); see offers.findPlacement. */
  findPlacement(db: Db, request: PlacementRequest, exclude?: ReadonlySet<string>): Promise<PlacementResult> {
    return offers.findPlacement(db, request, exclude);
  }

  quote(renter: string, input: QuoteInput): Promise<Quote> {
    return quotes.quote(this.ctx, renter, input);
  }

  /** Free a quote's GPUs at once and make it unpayable (idempotent; 409 once paid for or leased). */
  releaseQuote(renter: string, quoteId: string): Promise<QuoteRelease> {
    return quotes.releaseQuote(this.ctx, renter, quoteId);
  }

  createLease(renter: string, input: { quoteId: string; payment?: { transaction: string } }): Promise<Lease> {
    return leases.createLease(this.ctx, renter, input);
  }

  /** The renter's lease made from this quote, if one was made (a retry finishing a request a dead process served). */
  async leaseForQuote(renter: string, quoteId: string): Promise<Lease | undefined> {
    const row = await this.ctx.db.selectFrom('leases').select('id').where('quote_id', '=', quoteId).where('renter', '=', renter).executeTakeFirst();
    return row ? leaseViews.getLease(this.ctx, renter, row.id) : undefined;
  }

  getLease(renter: string, leaseId: string): Promise<Lease> {
    return leaseViews.getLease(this.ctx, renter, leaseId);
  }

  listLeases(renter: string, all: boolean): Promise<Lease[]> {
    return leaseViews.listLeases(this.ctx, renter, all);
  }

  extendLease(renter: string, leaseId: string, input: { hours: number; payment?: { transaction: string } }): Promise<Lease> {
    return leases.extendLease(this.ctx, renter, leaseId, input);
  }

  /** Stop early; a paid lease's refund is sent on chain and confirmed before this returns (the retry pass covers failures). */
  stopLease(renter: string, leaseId: string): Promise<{ lease: Lease; refund: number; refundSignature: string | null }> {
    return leases.stopLease(this.ctx, renter, leaseId);
  }

  /** End an active lease (metering, refund, slashing a node fault, freeing its GPUs); idempotent. */
  endLease(
    leaseId: string,
    state: 'completed' | 'stopped' | 'failed',
    endedAt: number,
    options: { reason: string | null; nodeFault: boolean },
    settle: { settle?: 'now' | 'later' } = {},
  ): Promise<false | { refundPayout: string | null }> {
    return leases.endLease(this.ctx, leaseId, state, endedAt, options, settle);
  }

  // ---------------------------------------------------------------- periodic work

  /** Offline detection, lease expiry, periodic metering and clean-up. Safe to run on several replicas. */
  sweep(options: { meter?: boolean } = {}): Promise<{ offline: string[]; failed: string[]; completed: string[] }> {
    return sweeping.sweep(this.ctx, options);
  }

  // ---------------------------------------------------------------- rewards, claims and payments

  rewards(owner: string): Promise<Rewards> {
    return rewards.getRewards(this.ctx, owner);
  }

  /** Outbox claim: one transaction moves the balance to a claim row with the signed transfer; then it is sent. */
  claim(owner: string): Promise<Claim> {
    return rewards.claimRewards(this.ctx, owner);
  }

  /** The owner's latest claim made at or after `since` (a retry finishing a claim a dead process made). */
  claimSince(owner: string, since: number): Promise<Claim | undefined> {
    return rewards.latestClaimSince(this.ctx, owner, since);
  }

  /** On start: settle every unfinished claim and refund from the chain (re-signing only expired transfers). */
  async recoverClaims(): Promise<void> {
    await this.payouts?.settleOpen();
  }

  /** Refund payments that landed but never became a lease or an extension; see payments.recoverPayments. */
  recoverPayments(olderThanMs = 5 * 60_000): Promise<number> {
    return payments.recoverPayments(this.ctx, olderThanMs);
  }

  /** Periodic retry of payouts that a failed send or a crash left open. */
  async retryStalePayouts(olderThanMs: number): Promise<number> {
    return (await this.payouts?.settleOpen(olderThanMs)) ?? 0;
  }

  // ---------------------------------------------------------------- metrics

  gauges(): Promise<gauges.Gauges> {
    return gauges.readGauges(this.ctx.db, this.options.now());
  }
}

export { randomUUID };
