// The coordinator API's wire format: zod schemas shared by the server (validation, OpenAPI) and typed clients.
import bs58 from 'bs58';
import { z } from 'zod';
import { ACTIVE_LEASE_STATES, LEASE_STATES } from '../domain/lease-states.js';
import { MAX_LEASE_HOURS } from '../domain/pricing.js';
import { isPrintableLabel } from '../domain/text.js';
import { workloadProblems } from '../domain/workload.js';

const money = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** A Solana address: base58 that decodes to exactly 32 bytes (a right-looking string of the wrong length is not one). */
const base58Key = z
  .string()
  .regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'must be a base58 public key')
  .refine((text) => bs58.decodeUnsafe(text)?.length === 32, 'must be a base58 public key (32 bytes)');
const isoTime = z.string();
const id = z.string().min(1).max(100).regex(/^[A-Za-z0-9_.:-]+$/, 'must be an id (letters, digits, _ . : -)');
/**
 * Identifiers and labels (GPU models and UUIDs, regions, versions, filters): no NUL or other control characters, no
 * bidirectional overrides. Refused alike on SQLite and PostgreSQL (which cannot store NUL in text), and safe to show.
 */
export function label(max: number, min = 1) {
  return z.string().min(min).max(max).refine(isPrintableLabel, 'must not contain control characters');
}
/** Free text a node reports (container errors): control characters other than tab and newline are replaced, never refused. */
const reportText = (max: number) =>
  // eslint-disable-next-line no-control-regex
  z.string().max(max).transform((text) => text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\ufffd'));
const shortText = label(200);
/** Image references: registry/name[:tag][@digest]; no whitespace or shell metacharacters. */
export const imageReference = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[a-z0-9][a-z0-9._\-/:@]*$/i, 'must be an image reference like "pytorch/pytorch:2.3.0"');
const envMap = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env names must be letters, digits and _'), z.string().max(4096))
  .refine((env) => Object.keys(env).length <= 100, 'at most 100 env variables');
const port = z.number().int().min(1).max(65535);
/** A numeric non-root user and group for a lease container (`rent --user UID:GID`); 0 is root, the default anyway. */
export const leaseUserSchema = z.object({ uid: z.number().int().min(1).max(2_147_483_647), gid: z.number().int().min(1).max(2_147_483_647) });

export const gpuSpecSchema = z.object({
  index: z.number().int().nonnegative().max(255),
  uuid: label(128),
  model: shortText,
  vramMb: z.number().int().positive().max(10_000_000),
});

/** Where a node's workloads are reached: a DNS name or an IPv4/IPv6 address (no scheme, no port). */
export const publicHostSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9A-Fa-f:.]+)$/, 'must be a host name or an IP address');

/** The node's GPU benchmark (src/provider/verify.ts): simulated GPUs are never benchmarked. */
export const verificationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('simulated') }),
  z.object({
    kind: z.literal('benchmark'),
    /** The slowest GPU's measured FP16 TFLOPS. */
    tflops: z.number().nonnegative().max(1_000_000),
    expectedTflops: z.number().positive().max(1_000_000).nullable(),
    passed: z.boolean(),
  }),
]);

/**
 * A GPU a node offers is a whole GPU. A MIG-enabled GPU runs CUDA work only inside its instances, and a MIG instance
 * (`MIG-…` UUID) is a slice: neither may be offered, priced or leased as a whole GPU.
 */
export const registeredGpuSchema = gpuSpecSchema
  .extend({ migEnabled: z.boolean().optional() })
  .refine((gpu) => !/^MIG-/i.test(gpu.uuid), { path: ['uuid'], message: 'is a MIG instance (MIG-… UUID); iocli offers whole GPUs only' })
  .refine((gpu) => gpu.migEnabled !== true, { path: ['migEnabled'], message: 'MIG is enabled on this GPU; a MIG-enabled GPU cannot be offered as a whole GPU (turn MIG off: nvidia-smi -i N -mig 0)' });

/** What isolation a node gives its leases beyond the container profile every node applies (provide --preflight finds it). */
export const nodeIsolationSchema = z.object({
  /** Each lease on its own Docker network, ports on the host's 127.0.0.1 only: never the host's network. */
  network: z.literal('own'),
  /** Docker remaps root in containers to an unprivileged host user (userns-remap or rootless Docker). */
  rootRemapped: z.boolean(),
  /** Firewall rules keep leases off the rig's LAN and its own services; null: the node could not tell. */
  lanBlocked: z.boolean().nullable(),
});
export type NodeIsolation = z.infer<typeof nodeIsolationSchema>;

export const registerNodeSchema = z.object({
  /** Stable per machine: re-registering the same owner + machine id updates the node. */
  machineId: id,
  gpus: z.array(registeredGpuSchema).min(1).max(64),
  cpu: z.object({ model: label(200, 0).optional(), cores: z.number().int().positive().max(4096) }),
  memoryMb: z.number().int().positive(),
  diskGb: z.number().nonnegative().optional(),
  driverVersion: label(64, 0).optional(),
  cudaVersion: label(64, 0).optional(),
  dockerVersion: label(64, 0).optional(),
  region: label(64),
  pricePerGpuHour: money.refine((v) => v > 0, 'must be positive'),
  simulated: z.boolean().default(false),
  publicHost: publicHostSchema.optional(),
  verification: verificationSchema.optional(),
  isolation: nodeIsolationSchema.optional(),
});

export const nodeSchema = z.object({
  id: z.string(),
  owner: z.string(),
  machineId: z.string(),
  region: z.string(),
  pricePerGpuHour: money,
  simulated: z.boolean(),
  verified: z.boolean(),
  status: z.enum(['online', 'offline', 'draining']),
  gpus: z.array(gpuSpecSchema),
  publicHost: z.string().nullable().optional(),
  verification: verificationSchema.nullable().optional(),
  /** Until when the node's last passed coordinator challenge counts (null: none). */
  verifiedUntil: isoTime.nullable().optional(),
  lastHeartbeatAt: isoTime.nullable(),
  createdAt: isoTime,
});

/** GET /v1/nodes/:id (owner only): the node with the leases it is running or about to run. */
export const nodeDetailSchema = nodeSchema.extend({
  leases: z.array(
    z.object({
      id: z.string(),
      state: z.string(),
      image: z.string(),
      gpuUuids: z.array(z.string()),
      ports: z.array(z.number()),
      startedAt: isoTime.nullable(),
      endsAt: isoTime,
    }),
  ),
});

export const openSessionSchema = z.object({ publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a base64url X25519 public key') });
export const sessionSchema = z.object({ sessionId: z.string(), publicKey: z.string(), expiresAt: z.number().int() });

export const assignmentsQuerySchema = z.object({
  after: label(64, 0).optional(),
  waitMs: z.coerce.number().int().nonnegative().max(25_000).default(0),
});

/**
 * One piece of a container's output. Output is bytes (it may hold NUL or invalid UTF-8): agents send it as base64;
 * `utf8` (the default, older agents) is text. Either way the coordinator stores the bytes.
 */
const logChunkFields = z.object({
  stream: z.enum(['stdout', 'stderr']).default('stdout'),
  data: z.string().max(65536),
  encoding: z.enum(['utf8', 'base64']).default('utf8'),
});
const base64Checked = <T extends z.ZodType<{ data: string; encoding: string }>>(schema: T) =>
  schema.refine((chunk) => chunk.encoding !== 'base64' || /^[A-Za-z0-9+/]*={0,2}$/.test(chunk.data), { message: 'must be base64', path: ['data'] });
export const logChunkSchema = base64Checked(logChunkFields);

export const containerStateSchema = z.enum(['pending', 'pulling', 'starting', 'running', 'exited', 'failed', 'stopped']);

export const heartbeatSchema = z.object({
  gpus: z
    .array(
      z.object({
        uuid: label(128),
        utilization: z.number().min(0).max(100).optional(),
        memoryUsedMb: z.number().nonnegative().optional(),
        temperatureC: z.number().optional(),
        powerW: z.number().nonnegative().optional(),
      }),
    )
    .max(64)
    .default([]),
  containers: z
    .array(
      z.object({
        leaseId: id,
        state: containerStateSchema,
        exitCode: z.number().int().nullable().optional(),
        message: reportText(1000).optional(),
      }),
    )
    .max(256)
    .default([]),
  /** The agent is shutting down: no new placements, running leases continue while it keeps heartbeating. */
  draining: z.boolean().optional(),
  verification: verificationSchema.optional(),
  logs: z.array(base64Checked(logChunkFields.extend({ leaseId: id }))).max(256).optional(),
});

export const assignmentSchema = z.object({
  leaseId: z.string(),
  image: z.string(),
  command: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()),
  ports: z.array(port),
  gpuUuids: z.array(z.string()),
  memoryBytes: z.number().int().positive().optional(),
  cpus: z.number().positive().optional(),
  /** Run with a read-only root filesystem and a writable /tmp tmpfs. Sent only when true (older agents ignore it). */
  readOnlyRoot: z.boolean().optional(),
  /** Run as this non-root user instead of the image's default. Sent only when the renter asked. */
  user: leaseUserSchema.optional(),
  /** False: no egress (no network without ports, an internal network with them). Sent only when false. */
  egress: z.boolean().optional(),
  endsAt: isoTime,
});

// ---------------------------------------------------------------- provider trust: GPU challenges (issue 10)

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

// ---------------------------------------------------------------- provider trust: bonds (issue 10)

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

// ---------------------------------------------------------------- provider trust: evidence for paid time (issue 10)

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

export const heartbeatResponseSchema = z.object({
  assignments: z.array(assignmentSchema),
  /** Changes whenever the assignments do: pass as ?after= to GET /v1/nodes/:id/assignments. */
  version: z.string().optional(),
  /** A GPU challenge to answer now (sent only while one is open). */
  challenge: challengeOfferSchema.optional(),
  /** A liveness probe of the running leases to answer now (sent only while one is open). */
  probe: probeOfferSchema.optional(),
});
export const assignmentsResponseSchema = z.object({ assignments: z.array(assignmentSchema), version: z.string(), challenge: challengeOfferSchema.optional(), probe: probeOfferSchema.optional() });

export const uploadLogsSchema = z.object({
  chunks: z.array(logChunkSchema).min(1).max(256),
});

const boolish = z.union([z.boolean(), z.enum(['1', '0', 'true', 'false'])]).transform((v) => v === true || v === '1' || v === 'true');

export const offersQuerySchema = z.object({
  model: label(200, 0).optional(),
  minVram: z.coerce.number().int().nonnegative().optional(),
  gpus: z.coerce.number().int().positive().max(1024).optional(),
  maxPrice: z.coerce.number().int().nonnegative().optional(),
  region: label(64, 0).optional(),
  sort: z.enum(['price', 'reliability']).default('price'),
  limit: z.coerce.number().int().positive().max(1000).default(100),
});

export const offerSchema = z.object({
  nodeId: z.string(),
  model: z.string(),
  vramMb: z.number().int(),
  freeGpus: z.number().int(),
  totalGpus: z.number().int(),
  pricePerGpuHour: money,
  region: z.string(),
  reliability: z.number(),
  verified: z.boolean(),
  simulated: z.boolean(),
  /** verified: a coordinator GPU challenge passed; simulated: GPUs that do not exist (dev networks); unverified: neither. */
  verification: z.enum(['verified', 'unverified', 'simulated']).optional(),
  /** What the node last passed: a GPU challenge, or the CPU stand-in (simulated GPUs); null: nothing current. */
  challenge: z.enum(['gpu', 'cpu-stand-in']).nullable().optional(),
  /** The lease isolation the node reported; null: a node that predates the report. */
  isolation: nodeIsolationSchema.nullable().optional(),
});

export const offersResponseSchema = z.object({ offers: z.array(offerSchema) });

export const quoteRequestSchema = z.object({
  gpus: z.number().int().positive().max(1024),
  model: label(200).optional(),
  minVram: z.number().int().nonnegative().optional(),
  region: label(64, 0).optional(),
  hours: z.number().int().positive().max(MAX_LEASE_HOURS).default(1),
  maxPrice: money.optional(),
  multiNode: z.boolean().default(false),
  image: imageReference,
  command: z.array(z.string().max(4096)).max(256).optional(),
  env: envMap.default({}),
  ports: z.array(port).max(32).default([]),
  /** Run the container with a read-only root filesystem (a writable /tmp tmpfs); only for images that tolerate it. */
  readOnlyRoot: z.boolean().default(false),
  /** Hold the quoted GPUs for the quote's lifetime (default); false prices only (a dry run) and holds nothing. */
  hold: z.boolean().default(true),
  /** Run as this non-root user (`rent --user UID:GID`); absent: the image's default user (root in most ML images). */
  user: leaseUserSchema.optional(),
  /** False (`rent --no-egress`): the container gets no route out. */
  egress: z.boolean().default(true),
}).superRefine((request, ctx) => {
  // The same rules the node applies before it starts anything (src/domain/workload.ts): refused before any payment.
  for (const problem of workloadProblems(request)) ctx.addIssue({ code: 'custom', path: problem.path.split('.'), message: problem.message });
});

export const allocationSchema = z.object({
  nodeId: z.string(),
  gpuUuids: z.array(z.string()),
  pricePerGpuHour: money,
  region: z.string(),
  /** Where the node serves the lease's ports (absent in quotes and for nodes that registered none). */
  publicHost: z.string().nullable().optional(),
  /** The lease isolation the node reported (absent in quotes; null for nodes that predate the report). */
  isolation: nodeIsolationSchema.nullable().optional(),
});

export const quoteSchema = z.object({
  quoteId: z.string(),
  gpus: z.number().int(),
  model: z.string().nullable(),
  hours: z.number().int(),
  pricePerGpuHour: money,
  perHour: money,
  total: money,
  fee: money,
  expiresAt: isoTime,
  placement: z.array(allocationSchema),
});

export const noCapacitySchema = z.object({
  requested: z.object({ gpus: z.number(), model: z.string().nullable(), maxPrice: z.number().nullable(), region: z.string().nullable() }),
  nodesConsidered: z.number().int(),
  excluded: z.array(z.object({ filter: z.string(), nodes: z.number().int() })),
  bestAlternative: z
    .object({ nodeId: z.string(), model: z.string(), freeGpus: z.number().int(), pricePerGpuHour: money, region: z.string() })
    .nullable(),
});

export const createLeaseSchema = z.object({
  quoteId: id,
  payment: z.object({ transaction: z.string().min(1).max(8192) }).optional(),
});

export const leaseStateSchema = z.enum(LEASE_STATES);
export { ACTIVE_LEASE_STATES };

export const leaseSchema = z.object({
  id: z.string(),
  renter: z.string(),
  quoteId: z.string(),
  state: leaseStateSchema,
  gpus: z.number().int(),
  model: z.string().nullable(),
  hours: z.number().int(),
  pricePerGpuHour: money,
  perHour: money,
  totalPaid: money,
  refund: money,
  image: z.string(),
  command: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()),
  ports: z.array(z.number()),
  /** The container's root filesystem is read-only (with a writable /tmp tmpfs). */
  readOnlyRoot: z.boolean().default(false),
  /** The non-root user the container runs as; null or absent (an older coordinator): the image's default user. */
  user: leaseUserSchema.nullable().optional(),
  /** Whether the container may reach the internet (the rig's LAN and services never); absent means true. */
  egress: z.boolean().optional(),
  allocations: z.array(allocationSchema),
  paymentSignature: z.string().nullable(),
  /** The on-chain refund transfer of the unused time, once one was signed. */
  refundSignature: z.string().nullable().optional(),
  /** Running minutes without evidence (a liveness probe failed): the provider earned nothing for them. */
  frozenMinutes: z.number().int().optional(),
  /** What those minutes refunded to the renter (on top of `refund`); absent from older coordinators. */
  frozenRefund: money.optional(),
  failureReason: z.string().nullable(),
  createdAt: isoTime,
  startedAt: isoTime.nullable(),
  endsAt: isoTime,
  stoppedAt: isoTime.nullable(),
  /** The workload's exit code once its container ended on its own (a batch job): 0 completed the lease, others failed it. */
  exitCode: z.number().int().nullable().optional(),
});

export const leasesQuerySchema = z.object({ all: boolish.default(false) });
export const leasesResponseSchema = z.object({ leases: z.array(leaseSchema) });

export const logsQuerySchema = z.object({
  tail: z.coerce.number().int().positive().max(10_000).optional(),
  since: z.coerce.number().int().nonnegative().optional(),
  /** utf8 (default): `data` is the output decoded as UTF-8 text; base64: `data` is the exact bytes the container wrote. */
  encoding: z.enum(['utf8', 'base64']).default('utf8'),
});
export const logsResponseSchema = z.object({
  entries: z.array(
    z.object({ cursor: z.number().int(), stream: z.enum(['stdout', 'stderr']), data: z.string(), encoding: z.enum(['utf8', 'base64']).optional(), at: isoTime }),
  ),
  /** Pass back as ?since= to get only newer entries. */
  cursor: z.number().int(),
});

export const extendLeaseSchema = z.object({
  hours: z.number().int().positive().max(MAX_LEASE_HOURS),
  payment: z.object({ transaction: z.string().min(1).max(8192) }).optional(),
});
export const stopLeaseResponseSchema = z.object({ lease: leaseSchema, refund: money, refundSignature: z.string().nullable().optional() });

export const claimSchema = z.object({
  id: z.string(),
  owner: z.string(),
  amount: money,
  state: z.enum(['pending', 'sent', 'paid', 'failed']),
  signature: z.string().nullable(),
  createdAt: isoTime,
});

/** One balance movement of the owner's rewards account (ledger rows are signed: claims are negative). */
export const ledgerEntrySchema = z.object({
  kind: z.string(),
  amount: z.number().int(),
  leaseId: z.string().nullable(),
  claimId: z.string().nullable(),
  at: isoTime,
});

export const rewardsSchema = z.object({
  owner: z.string(),
  accrued: money,
  claimed: money,
  pending: money,
  claimable: money,
  /** Newest first: ledger rows and claims (with their transaction signatures). */
  history: z.object({ ledger: z.array(ledgerEntrySchema), claims: z.array(claimSchema) }).optional(),
});

/** Dev faucet: whole tokens (decimal string or number, up to the token's decimals) and/or SOL. */
export const faucetRequestSchema = z.object({
  address: base58Key,
  tokens: z
    .union([z.number().positive(), z.string().regex(/^\d+(\.\d{1,6})?$/, 'must be a token amount like "500" or "0.5"')])
    .optional(),
  /** Whole lamports only (1 SOL = 10^9 lamports). */
  sol: z
    .number()
    .nonnegative()
    .max(100)
    .refine((sol) => Math.abs(sol * 1e9 - Math.round(sol * 1e9)) < 1e-6, 'must be a whole number of lamports (at most 9 decimals)')
    .optional(),
});
export const faucetResponseSchema = z.object({
  address: z.string(),
  /** Base units minted to the address's token account. */
  amount: money,
  tokenAccount: z.string().nullable(),
  /** The token mint transaction. */
  signature: z.string().nullable(),
  sol: z.number(),
  solSignature: z.string().nullable(),
});

export const networkSchema = z.object({
  cluster: z.string(),
  rpcUrl: z.string(),
  mint: z.string().nullable(),
  decimals: z.number().int(),
  treasury: z.string().nullable(),
  feeBps: z.number().int(),
  dev: z.boolean(),
  /** Ticker of the payment token, for display. */
  symbol: z.string().optional(),
  /** Whether POST /v1/faucet hands out test tokens here. */
  faucet: z.boolean().optional(),
  /** What a provider deposits per GPU (provider trust). */
  bonds: bondTermsSchema.optional(),
});

export const healthSchema = z.object({ status: z.literal('ok'), version: z.string(), engine: z.enum(['sqlite', 'postgres']), uptimeS: z.number() });

export const apiErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), hint: z.string().optional(), details: z.unknown().optional() }),
});

export { base58Key };

export type GpuSpec = z.infer<typeof gpuSpecSchema>;
export type RegisterNodeRequest = z.input<typeof registerNodeSchema>;
export type RegisterNodeInput = z.output<typeof registerNodeSchema>;
export type Node = z.infer<typeof nodeSchema>;
export type NodeDetail = z.infer<typeof nodeDetailSchema>;
export type Verification = z.infer<typeof verificationSchema>;
export type HeartbeatSession = z.infer<typeof sessionSchema>;
export type AssignmentsResponse = z.infer<typeof assignmentsResponseSchema>;
export type HeartbeatRequest = z.input<typeof heartbeatSchema>;
export type HeartbeatInput = z.output<typeof heartbeatSchema>;
export type ContainerState = z.infer<typeof containerStateSchema>;
export type Assignment = z.infer<typeof assignmentSchema>;
export type HeartbeatResponse = z.infer<typeof heartbeatResponseSchema>;
export type UploadLogsRequest = z.input<typeof uploadLogsSchema>;
export type OffersQuery = z.input<typeof offersQuerySchema>;
export type Offer = z.infer<typeof offerSchema>;
export type OffersResponse = z.infer<typeof offersResponseSchema>;
export type QuoteRequest = z.input<typeof quoteRequestSchema>;
export type QuoteInput = z.output<typeof quoteRequestSchema>;
export type Allocation = z.infer<typeof allocationSchema>;
export type Quote = z.infer<typeof quoteSchema>;
export type NoCapacityDetails = z.infer<typeof noCapacitySchema>;
export type CreateLeaseRequest = z.input<typeof createLeaseSchema>;
export type LeaseState = z.infer<typeof leaseStateSchema>;
export type Lease = z.infer<typeof leaseSchema>;
export type LeasesResponse = z.infer<typeof leasesResponseSchema>;
export type LogsResponse = z.infer<typeof logsResponseSchema>;
export type ExtendLeaseRequest = z.input<typeof extendLeaseSchema>;
export type StopLeaseResponse = z.infer<typeof stopLeaseResponseSchema>;
export type Rewards = z.infer<typeof rewardsSchema>;
export type Claim = z.infer<typeof claimSchema>;
export type LedgerEntry = z.infer<typeof ledgerEntrySchema>;
export type FaucetRequest = z.input<typeof faucetRequestSchema>;
export type FaucetResponse = z.infer<typeof faucetResponseSchema>;
export type NetworkInfo = z.infer<typeof networkSchema>;
export type Health = z.infer<typeof healthSchema>;
export type ApiErrorBody = z.infer<typeof apiErrorSchema>;
