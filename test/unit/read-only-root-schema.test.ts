// The read-only root option on the wire: off unless the renter asks, carried by quote requests, leases and assignments.
import { describe, expect, it } from 'vitest';
import { leaseSchema, quoteRequestSchema } from '../../src/api/schemas/leases.js';
import { assignmentSchema } from '../../src/api/schemas/nodes.js';

describe('readOnlyRoot in the API schemas', () => {
  const quote = { gpus: 1, image: 'busybox:latest' };

  it('quote requests default to a writable root and accept true', () => {
    expect(quoteRequestSchema.parse(quote).readOnlyRoot).toBe(false);
    expect(quoteRequestSchema.parse({ ...quote, readOnlyRoot: true }).readOnlyRoot).toBe(true);
  });

  it.each(['yes', 1, 'true', null])('quote requests refuse readOnlyRoot %j', (value) => {
    expect(quoteRequestSchema.safeParse({ ...quote, readOnlyRoot: value }).success).toBe(false);
  });

  it('assignments carry it only when set', () => {
    const base = { leaseId: 'lease_1', image: 'busybox', env: {}, ports: [], gpuUuids: [], endsAt: '2025-01-01T00:00:00.000Z' };
    expect(assignmentSchema.parse(base)).not.toHaveProperty('readOnlyRoot');
    expect(assignmentSchema.parse({ ...base, readOnlyRoot: true }).readOnlyRoot).toBe(true);
  });

  it('a lease without the field (an older coordinator) reads as writable', () => {
    const lease = {
      id: 'lease_1', renter: 'R', quoteId: 'q_1', state: 'running', gpus: 1, model: null, hours: 1, pricePerGpuHour: 1, perHour: 1,
      totalPaid: 1, refund: 0, image: 'busybox', env: {}, ports: [], allocations: [], paymentSignature: null, failureReason: null,
      createdAt: '2025-01-01T00:00:00.000Z', startedAt: null, endsAt: '2025-01-01T01:00:00.000Z', stoppedAt: null,
    };
    expect(leaseSchema.parse(lease).readOnlyRoot).toBe(false);
    expect(leaseSchema.parse({ ...lease, readOnlyRoot: true }).readOnlyRoot).toBe(true);
  });
});
