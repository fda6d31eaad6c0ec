// What each coordinator operation answers, by operationId (src/coordinator/http/route-table.ts). Types only: the
// client's start-up pays nothing for it. response-schemas.ts proves, at compile time, that each type is what the shared
// zod schema of that answer produces, and checks answers at run time for clients that ask it to.
import type { Lease, LeasesResponse, LogsResponse, OffersResponse, Quote, QuoteRelease, StopLeaseResponse } from './schemas/leases.js';
import type { FaucetResponse, Health, NetworkInfo } from './schemas/network.js';
import type { AssignmentsResponse, HeartbeatResponse, HeartbeatSession, Node, NodeDetail } from './schemas/nodes.js';
import type { ChallengeResult, ChallengeSamples, NodeBond, NodeWhy, ProbeResult } from './schemas/provider-trust.js';
import type { Claim, Rewards } from './schemas/rewards.js';

export interface ResponseTypes {
  health: Health;
  getNetwork: NetworkInfo;
  registerNode: Node;
  heartbeat: HeartbeatResponse;
  waitForAssignments: AssignmentsResponse;
  getNode: NodeDetail;
  commitChallenge: ChallengeSamples;
  answerChallenge: ChallengeResult;
  answerProbe: ProbeResult;
  explainNode: NodeWhy;
  getNodeBond: NodeBond;
  bondNode: NodeBond;
  unbondNode: NodeBond;
  openHeartbeatSession: HeartbeatSession;
  uploadLeaseLogs: { ok: boolean };
  listOffers: OffersResponse;
  quoteLease: Quote;
  releaseQuote: QuoteRelease;
  createLease: Lease;
  listLeases: LeasesResponse;
  getLease: Lease;
  getLeaseLogs: LogsResponse;
  extendLease: Lease;
  stopLease: StopLeaseResponse;
  getRewards: Rewards;
  claimRewards: Claim;
  faucet: FaucetResponse;
}

export type Operation = keyof ResponseTypes;

/** Turns a 2xx JSON answer into the operation's type, or throws naming what does not fit. */
export type ResponseReader = <Op extends Operation>(operation: Op, body: unknown) => ResponseTypes[Op];

/** An answer that does not fit its operation's type; the client turns it into COORDINATOR_BAD_RESPONSE. */
export class ResponseShapeError extends Error {
  override readonly name = 'ResponseShapeError';
}

/**
 * Without validation: any JSON object is taken as the operation's answer. The one unchecked step, kept here: the types
 * are those of the shared schemas, which the server's handlers are typed with.
 */
export function trustResponse<Op extends Operation>(operation: Op, body: unknown): ResponseTypes[Op] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ResponseShapeError(`${operation} answered ${body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body}, not an object.`);
  return body as ResponseTypes[Op];
}
