// Wire format of the coordinator as a service: the network it runs on (chain, mint, fees, bond terms), the dev faucet,
// health, and the one error body every refusal has.
import { z } from 'zod';
import { bondTermsSchema } from './provider-trust.js';
import { base58Key, money } from './primitives.js';

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

export type FaucetRequest = z.input<typeof faucetRequestSchema>;
export type FaucetResponse = z.infer<typeof faucetResponseSchema>;
export type NetworkInfo = z.infer<typeof networkSchema>;
export type Health = z.infer<typeof healthSchema>;
export type ApiErrorBody = z.infer<typeof apiErrorSchema>;
