// Wire format of a node's life with the coordinator: registration (GPUs, isolation, benchmark), the node views,
// heartbeat sessions, heartbeats with their log chunks, and the assignments (desired state) the replies carry.
import { z } from 'zod';
import { challengeOfferSchema, probeOfferSchema } from './provider-trust.js';
import { id, isoTime, label, leaseUserSchema, money, port, reportText, shortText } from './primitives.js';

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
