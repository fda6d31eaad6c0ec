// One list of lease states: the API schema, the coordinator's "active" queries and the CLI's display all read it.
import { describe, expect, it } from 'vitest';
import { leaseStateSchema } from '../../src/api/schemas/leases.js';
import { ACTIVE_LEASE_STATES, isActiveLeaseState, LEASE_STATES } from '../../src/domain/lease-states.js';
import { isTerminal } from '../../src/renter/format.js';

describe('lease states', () => {
  it.each([
    ['paid', true],
    ['scheduled', true],
    ['running', true],
    ['completed', false],
    ['stopped', false],
    ['failed', false],
    ['quoted', false],
  ])('%s active: %s', (state, active) => {
    expect(isActiveLeaseState(state)).toBe(active);
  });

  it('the API schema accepts exactly these states, and each is either active or terminal', () => {
    expect(leaseStateSchema.options).toEqual([...LEASE_STATES]);
    for (const state of LEASE_STATES) expect(isActiveLeaseState(state)).toBe(!isTerminal(state));
    expect(ACTIVE_LEASE_STATES.every((s) => LEASE_STATES.includes(s))).toBe(true);
  });
});
