// Turning the coordinator's refusals into renter-facing errors: no capacity and price limits exit 4 with an explanation.
import type { NoCapacityDetails } from '../api/schemas/leases.js';
import { ExitCode, UserError } from '../errors.js';
import { explainNoCapacity, tokens } from './format.js';

/** The stable code the API put on an error, if any (the client carries it through on UserError.code). */
export function apiErrorCode(error: unknown): string | undefined {
  return error instanceof UserError ? error.code : undefined;
}

function isNoCapacityDetails(value: unknown): value is NoCapacityDetails {
  const v = value as NoCapacityDetails | undefined;
  return typeof v === 'object' && v !== null && typeof v.nodesConsidered === 'number' && Array.isArray(v.excluded) && typeof v.requested === 'object';
}

/** A NO_CAPACITY refusal, re-told with which filters excluded how many nodes and the nearest request that fits. */
export function noCapacityError(error: unknown, decimals: number): UserError | undefined {
  if (apiErrorCode(error) !== 'NO_CAPACITY') return undefined;
  const raw = (error as UserError).details;
  // The client may hand over the API's details as they are, or nested under `details`.
  const details = isNoCapacityDetails(raw) ? raw : isNoCapacityDetails(raw?.details) ? (raw.details as NoCapacityDetails) : undefined;
  if (!details) {
    return new UserError((error as UserError).message, { exitCode: ExitCode.unavailable, code: 'NO_CAPACITY', hint: (error as UserError).hint ?? 'See `iocli offers`.' });
  }
  const explained = explainNoCapacity(details, decimals);
  return new UserError(explained.message, {
    exitCode: ExitCode.unavailable,
    code: explained.priceOnly ? 'PRICE_ABOVE_MAX' : 'NO_CAPACITY',
    hint: explained.hint,
    details: { ...details, reasons: explained.reasons },
  });
}

/** The quote came back above the renter's limit (checked here too: the limit is the renter's promise to themselves). */
export function priceAboveMaxError(pricePerGpuHour: number, maxPrice: number, decimals: number): UserError {
  return new UserError(
    `The best price is ${tokens(pricePerGpuHour, decimals)} tokens per GPU-hour, above --max-price ${tokens(maxPrice, decimals)}.`,
    {
      exitCode: ExitCode.unavailable,
      code: 'PRICE_ABOVE_MAX',
      hint: `Raise --max-price to at least ${tokens(pricePerGpuHour, decimals)}, or see cheaper capacity with \`iocli offers --max-price ${tokens(maxPrice, decimals)}\`.`,
      details: { pricePerGpuHour, maxPrice },
    },
  );
}

/** A payment the coordinator refused, with what to do about it. */
export function paymentError(error: unknown): UserError | undefined {
  const code = apiErrorCode(error);
  if (code !== 'PAYMENT_REJECTED' && code !== 'PAYMENT_REQUIRED' && code !== 'PAYMENT_REUSED' && code !== 'PAYMENT_INVALID') return undefined;
  const original = error as UserError;
  return new UserError(original.message, {
    code,
    exitCode: code === 'PAYMENT_REJECTED' && /insufficient/i.test(original.message) ? ExitCode.unavailable : ExitCode.failure,
    hint: original.hint ?? 'Nothing was charged if the payment was rejected. Check `iocli wallet balance` and try again (a new quote is requested).',
    details: original.details,
  });
}
