// Wire format of renting: offers and their filters, quotes (with the no-capacity explanation), leases with their
// states, logs, extension and stop (with its refund).
import { z } from 'zod';
import { LEASE_STATES } from '../../domain/lease-states.js';
import { MAX_LEASE_HOURS } from '../../domain/pricing.js';
import { workloadProblems } from '../../domain/workload.js';
import { nodeIsolationSchema } from './nodes.js';
import { boolish, envMap, id, imageReference, isoTime, label, leaseUserSchema, money, port } from './primitives.js';

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

/** A released quote: its GPUs are free again and it can no longer be paid for. The same answer when asked again. */
export const quoteReleaseSchema = z.object({
  quoteId: z.string(),
  state: z.literal('released'),
  releasedAt: isoTime,
  /** GPUs whose hold this request ended (0 when the quote held none or was released before). */
  gpusFreed: z.number().int(),
});

export const createLeaseSchema = z.object({
  quoteId: id,
  payment: z.object({ transaction: z.string().min(1).max(8192) }).optional(),
});

export const leaseStateSchema = z.enum(LEASE_STATES);

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

export type OffersQuery = z.input<typeof offersQuerySchema>;
export type Offer = z.infer<typeof offerSchema>;
export type OffersResponse = z.infer<typeof offersResponseSchema>;
export type QuoteRequest = z.input<typeof quoteRequestSchema>;
export type QuoteInput = z.output<typeof quoteRequestSchema>;
export type Allocation = z.infer<typeof allocationSchema>;
export type Quote = z.infer<typeof quoteSchema>;
export type QuoteRelease = z.infer<typeof quoteReleaseSchema>;
export type NoCapacityDetails = z.infer<typeof noCapacitySchema>;
export type CreateLeaseRequest = z.input<typeof createLeaseSchema>;
export type LeaseState = z.infer<typeof leaseStateSchema>;
export type Lease = z.infer<typeof leaseSchema>;
export type LeasesResponse = z.infer<typeof leasesResponseSchema>;
export type LogsResponse = z.infer<typeof logsResponseSchema>;
export type ExtendLeaseRequest = z.input<typeof extendLeaseSchema>;
export type StopLeaseResponse = z.infer<typeof stopLeaseResponseSchema>;
