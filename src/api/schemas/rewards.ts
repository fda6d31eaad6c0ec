// Wire format of provider rewards: the balance, its ledger rows and the claims that pay it out.
import { z } from 'zod';
import { isoTime, money } from './primitives.js';

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

export type Rewards = z.infer<typeof rewardsSchema>;
export type Claim = z.infer<typeof claimSchema>;
export type LedgerEntry = z.infer<typeof ledgerEntrySchema>;
