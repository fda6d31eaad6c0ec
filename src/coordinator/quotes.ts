// Quotes: a placement priced and held for a few minutes, or a 409 that explains why nothing fits.
import type { Allocation, Quote, QuoteInput } from '../api/schemas.js';
import type { PlacedAllocation, PlacementExplanation, PlacementRequest } from '../domain/placement.js';
import { priceQuote } from '../domain/pricing.js';
import { iso, newId, type CoordinatorContext } from './context.js';
import { HttpError } from './http-error.js';
import { findPlacement, placementTrust } from './offers.js';

export async function quote(ctx: CoordinatorContext, renter: string, input: QuoteInput): Promise<Quote> {
  const request: PlacementRequest = { gpus: input.gpus, model: input.model, minVram: input.minVram, region: input.region, maxPrice: input.maxPrice, multiNode: input.multiNode };
  const placement = await findPlacement(ctx.db, request, undefined, placementTrust(ctx));
  if (!placement.ok) throw noCapacity(input, placement.explanation);
  const price = priceQuote(placement.allocations.map((a) => ({ pricePerGpuHour: a.pricePerGpuHour, gpus: a.gpuIds.length })), input.hours, ctx.options.feeBps);
  const now = ctx.options.now();
  const id = newId('q');
  const expiresAt = now + ctx.options.quoteTtlMs;
  const allocations = placement.allocations.map(toAllocation);
  await ctx.db
    .insertInto('quotes')
    .values({
      id,
      renter,
      request: JSON.stringify(input),
      allocations: JSON.stringify(placement.allocations),
      gpus: input.gpus,
      model: input.model ?? null,
      hours: input.hours,
      price_per_gpu_hour: price.pricePerGpuHour,
      per_hour: price.perHour,
      total: price.total,
      fee: price.fee,
      expires_at: expiresAt,
      lease_id: null,
      created_at: now,
    })
    .execute();
  return { quoteId: id, gpus: input.gpus, model: input.model ?? null, hours: input.hours, pricePerGpuHour: price.pricePerGpuHour, perHour: price.perHour, total: price.total, fee: price.fee, expiresAt: iso(expiresAt)!, placement: allocations };
}

function noCapacity(input: QuoteInput, explanation: PlacementExplanation): HttpError {
  const parts = explanation.excluded.map((e) => `${e.nodes} by ${e.filter}`).join(', ');
  const alt = explanation.bestAlternative;
  return new HttpError(
    409,
    'NO_CAPACITY',
    `No capacity for ${input.gpus} × ${input.model ?? 'GPU'}${input.multiNode ? '' : ' on one node'}: ${explanation.nodesConsidered} online node(s) considered${parts ? `; excluded ${parts}` : ''}.`,
    alt ? `Closest: node ${alt.nodeId} has ${alt.freeGpus} × ${alt.model} free at ${alt.pricePerGpuHour} per GPU-hour in ${alt.region}.` : 'No GPUs are free right now; try again later.',
    {
      requested: { gpus: input.gpus, model: input.model ?? null, maxPrice: input.maxPrice ?? null, region: input.region ?? null },
      nodesConsidered: explanation.nodesConsidered,
      excluded: explanation.excluded,
      bestAlternative: explanation.bestAlternative,
    },
  );
}

function toAllocation(a: PlacedAllocation): Allocation {
  return { nodeId: a.nodeId, gpuUuids: a.gpuUuids, pricePerGpuHour: a.pricePerGpuHour, region: a.region };
}
