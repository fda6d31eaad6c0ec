// Run-time checks of coordinator answers with the shared zod schemas (the ones the server's handlers are typed with).
// Loaded only by clients created with validateResponses: zod costs a CLI command ~270 ms of start-up (bench/startup.mjs).
import { z } from 'zod';
import { leaseSchema, leasesResponseSchema, logsResponseSchema, offersResponseSchema, quoteReleaseSchema, quoteSchema, stopLeaseResponseSchema } from './schemas/leases.js';
import { faucetResponseSchema, healthSchema, networkSchema } from './schemas/network.js';
import { assignmentsResponseSchema, heartbeatResponseSchema, nodeDetailSchema, nodeSchema, sessionSchema } from './schemas/nodes.js';
import { challengeResultSchema, challengeSamplesSchema, nodeBondSchema, nodeWhySchema, probeResultSchema } from './schemas/provider-trust.js';
import { claimSchema, rewardsSchema } from './schemas/rewards.js';
import { ResponseShapeError, type Operation, type ResponseReader, type ResponseTypes } from './responses.js';

/** One schema per operation; the type annotation is what proves ResponseTypes matches the schemas. */
const responseSchemas: { [Op in Operation]: z.ZodType<ResponseTypes[Op]> } = {
  health: healthSchema,
  getNetwork: networkSchema,
  registerNode: nodeSchema,
  heartbeat: heartbeatResponseSchema,
  waitForAssignments: assignmentsResponseSchema,
  getNode: nodeDetailSchema,
  commitChallenge: challengeSamplesSchema,
  answerChallenge: challengeResultSchema,
  answerProbe: probeResultSchema,
  explainNode: nodeWhySchema,
  getNodeBond: nodeBondSchema,
  bondNode: nodeBondSchema,
  unbondNode: nodeBondSchema,
  openHeartbeatSession: sessionSchema,
  uploadLeaseLogs: z.object({ ok: z.boolean() }),
  listOffers: offersResponseSchema,
  quoteLease: quoteSchema,
  releaseQuote: quoteReleaseSchema,
  createLease: leaseSchema,
  listLeases: leasesResponseSchema,
  getLease: leaseSchema,
  getLeaseLogs: logsResponseSchema,
  extendLease: leaseSchema,
  stopLease: stopLeaseResponseSchema,
  getRewards: rewardsSchema,
  claimRewards: claimSchema,
  faucet: faucetResponseSchema,
};

export const validateResponse: ResponseReader = (operation, body) => {
  const result = responseSchemas[operation].safeParse(body);
  if (result.success) return result.data;
  throw new ResponseShapeError(result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`).join('; '));
};
