// Run-time checks of coordinator answers with the shared zod schemas (the ones the server's handlers are typed with).
// Loaded only by clients created with validateResponses: zod costs a CLI command ~270 ms of start-up (bench/startup.mjs).
import { z } from 'zod';
import * as s from './schemas.js';
import { ResponseShapeError, type Operation, type ResponseReader, type ResponseTypes } from './responses.js';

/** One schema per operation; the type annotation is what proves ResponseTypes matches the schemas. */
const responseSchemas: { [Op in Operation]: z.ZodType<ResponseTypes[Op]> } = {
  health: s.healthSchema,
  getNetwork: s.networkSchema,
  registerNode: s.nodeSchema,
  heartbeat: s.heartbeatResponseSchema,
  waitForAssignments: s.assignmentsResponseSchema,
  getNode: s.nodeDetailSchema,
  commitChallenge: s.challengeSamplesSchema,
  answerChallenge: s.challengeResultSchema,
  answerProbe: s.probeResultSchema,
  explainNode: s.nodeWhySchema,
  getNodeBond: s.nodeBondSchema,
  bondNode: s.nodeBondSchema,
  unbondNode: s.nodeBondSchema,
  openHeartbeatSession: s.sessionSchema,
  uploadLeaseLogs: z.object({ ok: z.boolean() }),
  listOffers: s.offersResponseSchema,
  quoteLease: s.quoteSchema,
  createLease: s.leaseSchema,
  listLeases: s.leasesResponseSchema,
  getLease: s.leaseSchema,
  getLeaseLogs: s.logsResponseSchema,
  extendLease: s.leaseSchema,
  stopLease: s.stopLeaseResponseSchema,
  getRewards: s.rewardsSchema,
  claimRewards: s.claimSchema,
  faucet: s.faucetResponseSchema,
};

export const validateResponse: ResponseReader = (operation, body) => {
  const result = responseSchemas[operation].safeParse(body);
  if (result.success) return result.data;
  throw new ResponseShapeError(result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`).join('; '));
};
