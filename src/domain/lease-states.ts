// A lease's lifecycle states, in one place for the coordinator's queries, the API schema and the CLI's display.
// quoted → paid → scheduled → running → completed | stopped | failed (quotes live in their own table).

export const LEASE_STATES = ['paid', 'scheduled', 'running', 'completed', 'stopped', 'failed'] as const;
export type LeaseState = (typeof LEASE_STATES)[number];

/** The states in which a lease holds its GPUs and may still be extended or stopped. */
export const ACTIVE_LEASE_STATES = ['paid', 'scheduled', 'running'] as const satisfies readonly LeaseState[];
export type ActiveLeaseState = (typeof ACTIVE_LEASE_STATES)[number];

export function isActiveLeaseState(state: string): state is ActiveLeaseState {
  return (ACTIVE_LEASE_STATES as readonly string[]).includes(state);
}
