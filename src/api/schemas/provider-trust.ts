// Wire format of provider trust (issue 10): GPU challenges and why a node is idle, bonds (per GPU, slashable), and the
// liveness probes that are the evidence for paid time. Heartbeat replies carry the open challenge and probe.
import { z } from 'zod';
import { isoTime, money } from './primitives.js';

const challengeParamsSchema = z.object({
  n: z.number().int().positive(),
  k: z.number().int().positive(),
  batches: z.number().int().positive(),
  leafEntries: z.number().int().positive(),
  samples: z.number().int().positive(),
});

/** A challenge the coordinator issued to this node (src/domain/challenge.ts): compute, commit the roots, then open samples. */
export const challengeOfferSchema = z.object({
  id: z.string(),
  /** The commitment must arrive by then. */
  deadlineAt: isoTime,
  gpus: z.array(
    z.object({
      uuid: z.string(),
      model: z.string(),
      /** cpu-stand-in: simulated GPUs answer with the in-process CPU solver (dev networks only). */
      kind: z.enum(['gpu', 'cpu-stand-in']),
      params: challengeParamsSchema,
      seed: z.string().regex(/^[0-9a-f]{32}$/),
      deadlineMs: z.number().int(),
      /** Fill this many seeded words in the GPU's memory and answer the words queried at the commitment (src/domain/vram.ts). */
      vram: z.object({ words: z.number().int().positive(), rounds: z.number().int().positive(), queries: z.number().int().positive() }).optional(),
    }),
  ),
});

const merkleRoot = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'must be a base64 SHA-256 root');
export const challengeCommitSchema = z.object({ roots: z.record(z.string().max(128), merkleRoot) });
export const challengeSamplesSchema = z.object({
  state: z.enum(['committed', 'expired']),
  samples: z.record(z.string(), z.array(z.number().int().nonnegative())),
  answerBy: isoTime.nullable(),
  /** VRAM words to answer per GPU, and by when (a shorter window than the openings'). */
  vram: z.record(z.string(), z.array(z.number().int().nonnegative())).optional(),
  vramAnswerBy: isoTime.nullable().optional(),
});
export const challengeAnswerSchema = z.object({
  openings: z.record(
    z.string().max(128),
    z
      .array(z.object({ entry: z.number().int().nonnegative(), leaf: z.array(z.number().int()).max(4096), path: z.array(z.string().max(64)).max(64) }))
      .max(256),
  ),
  /** The queried VRAM words per GPU, in query order. */
  vram: z.record(z.string().max(128), z.array(z.number().int().nonnegative().max(0xffffffff)).max(256)).optional(),
});

export const challengeResultSchema = z.object({
  id: z.string(),
  reason: z.string(),
  /** cancelled: a random challenge that a lease overtook (it counts neither way). */
  state: z.enum(['issued', 'committed', 'passed', 'failed', 'expired', 'cancelled']),
  kind: z.enum(['gpu', 'cpu-stand-in']),
  gpus: z.array(z.string()),
  detail: z.string().nullable(),
  issuedAt: isoTime,
  deadlineAt: isoTime,
  /** Time from issue to commitment (ms): the measured run time. */
  computeMs: z.number().int().nullable(),
  /** Allowed time to commit (ms). */
  allowedMs: z.number().int(),
  finishedAt: isoTime.nullable(),
});

/** GET /v1/nodes/:id/why (owner only): why the node is not offered or not earning, from the coordinator's own data. */
export const nodeWhySchema = z.object({
  nodeId: z.string(),
  offered: z.boolean(),
  earning: z.boolean(),
  verifiedUntil: isoTime.nullable(),
  reasons: z.array(z.object({ code: z.string(), message: z.string(), next: z.string() })),
  challenges: z.array(challengeResultSchema),
});

/** POST /v1/nodes/:id/bond: bond these GPUs (default: every unbonded GPU). Without `payment`, a 402 names the amount. */
export const bondRequestSchema = z.object({
  gpus: z.array(z.string().min(1).max(128)).max(64).optional(),
  /** The memo reference the payment carries: `bond:<nodeId>:<random>` (from the 402's details). */
  reference: z.string().max(120).regex(/^bond:[A-Za-z0-9_.:-]+$/).optional(),
  payment: z.object({ transaction: z.string().min(1).max(4096) }).optional(),
});
export const unbondRequestSchema = z.object({ gpus: z.array(z.string().min(1).max(128)).max(64).optional() });

export const nodeBondSchema = z.object({
  nodeId: z.string(),
  /** Base units per GPU this coordinator asks, by GPU (the node's models). */
  gpus: z.array(
    z.object({
      uuid: z.string(),
      model: z.string(),
      required: money,
      state: z.enum(['unbonded', 'active', 'unbonding']),
      amount: money,
      balance: money,
      unbondAt: isoTime.nullable(),
    }),
  ),
  /** Sum of the balances still held (active and unbonding). */
  held: money,
  cooldownMs: z.number().int(),
});

export const bondTermsSchema = z.object({
  /** Whether a non-dev coordinator offers only bonded GPUs (false on --dev). */
  required: z.boolean(),
  cooldownMs: z.number().int(),
  /** Base units per GPU by catalogue model id. */
  perGpu: z.record(z.string(), money),
  /** Models the catalogue does not know. */
  unknownPerGpu: money,
  /** Simulated GPUs (dev networks). */
  simulatedPerGpu: money,
  /** Share of the bond (basis points) slashed for a failed challenge / a lease that ends by node fault. */
  slashBps: z.object({ failedChallenge: z.number().int(), nodeFault: z.number().int(), renterShare: z.number().int() }),
});

export type BondRequest = z.input<typeof bondRequestSchema>;
export type UnbondRequest = z.input<typeof unbondRequestSchema>;
export type NodeBond = z.infer<typeof nodeBondSchema>;
export type BondTerms = z.infer<typeof bondTermsSchema>;

/** A liveness probe of the node's running leases (sent on heartbeat replies while open). */
export const probeOfferSchema = z.object({ id: z.string(), leaseIds: z.array(z.string()), deadlineAt: isoTime });
export const probeAnswerSchema = z.object({
  leases: z
    .array(z.object({ leaseId: z.string().max(100), containerId: z.string().max(128), running: z.boolean(), state: z.string().max(32).optional(), startedAt: isoTime.nullable() }))
    .max(256),
});
export const probeResultSchema = z.object({ id: z.string(), state: z.enum(['issued', 'passed', 'failed', 'expired']), leaseIds: z.array(z.string()), detail: z.string().nullable(), issuedAt: isoTime, answeredAt: isoTime.nullable() });
export type ProbeOffer = z.infer<typeof probeOfferSchema>;
export type ProbeAnswer = z.input<typeof probeAnswerSchema>;
export type ProbeResult = z.infer<typeof probeResultSchema>;

export type ChallengeOffer = z.infer<typeof challengeOfferSchema>;
export type ChallengeCommit = z.infer<typeof challengeCommitSchema>;
export type ChallengeSamples = z.infer<typeof challengeSamplesSchema>;
export type ChallengeAnswer = z.infer<typeof challengeAnswerSchema>;
export type ChallengeResult = z.infer<typeof challengeResultSchema>;
export type NodeWhy = z.infer<typeof nodeWhySchema>;
