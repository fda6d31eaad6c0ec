// `iocli offers`: the capacity on the market, cheapest first. A public read: no wallet needed.
import type { OffersQuery } from '../src/api/schemas/leases.js';
import { parsePositiveInt, vramFlagToMb } from '../src/renter/parse.js';
import type { Context } from './context.js';
import type { CommandResult, CommandSpec } from './spec.js';

export interface OffersOptions {
  query: Omit<OffersQuery, 'maxPrice'>;
  /** In tokens; parsed once the network's decimals are known. */
  maxPriceText?: string;
}

export const offers: CommandSpec<OffersOptions> = {
  path: 'offers',
  summary: 'List available GPU capacity, cheapest first',
  description:
    'List provider nodes with free GPUs: GPU model, VRAM, price per GPU-hour (in tokens), region, reliability and whether\n' +
    'the node is verified. Public data: no wallet or signature is needed.',
  options: [
    { flags: '--model <name>', description: 'GPU model, matched case-insensitively on a substring (e.g. H100, 4090)' },
    { flags: '--min-vram <GB>', description: 'at least this much memory per GPU, in GB (1 GB = 1000 MB, so 80 matches 80 GB cards)' },
    { flags: '--gpus <n>', description: 'only nodes with at least this many free GPUs' },
    { flags: '--max-price <tokens>', description: 'at most this price per GPU-hour, in tokens' },
    { flags: '--region <name>', description: 'only nodes in this region' },
    { flags: '--sort <key>', description: 'order by', choices: ['price', 'reliability'], defaultValue: 'price' },
    { flags: '--limit <n>', description: 'at most this many offers (default 100)' },
  ],
  examples: ['iocli offers', 'iocli offers --gpus 8 --model H100', 'iocli offers --min-vram 24 --max-price 2.5 --sort reliability', 'iocli offers --json'],
  parse({ flags }) {
    const f = flags as Partial<Record<'model' | 'minVram' | 'gpus' | 'maxPrice' | 'region' | 'limit', string>> & { sort?: 'price' | 'reliability' };
    return {
      query: {
        model: f.model,
        minVram: f.minVram !== undefined ? vramFlagToMb(f.minVram) : undefined,
        gpus: f.gpus !== undefined ? parsePositiveInt(f.gpus, '--gpus', 1024) : undefined,
        region: f.region,
        sort: f.sort ?? 'price',
        limit: f.limit !== undefined ? parsePositiveInt(f.limit, '--limit', 1000) : undefined,
      },
      maxPriceText: f.maxPrice,
    };
  },
  run: runOffers,
};

export async function runOffers(options: OffersOptions, ctx: Context): Promise<CommandResult> {
  const query: OffersQuery = { ...options.query };
  const api = await ctx.api({ signed: false });
  // Prices are in the network's token: --max-price needs its decimals first; otherwise both are asked at once.
  let network = options.maxPriceText !== undefined ? await ctx.network() : undefined;
  if (network && options.maxPriceText !== undefined) {
    const { parseTokenAmount } = await import('../src/domain/money.js');
    query.maxPrice = parseTokenAmount(options.maxPriceText, { flag: '--max-price', decimals: network.decimals });
  }
  const [{ offers }, learned, { OFFER_TABLE_HEAD, offerRow }] = await Promise.all([api.offers(query, { signal: ctx.signal }), network ?? ctx.network(), import('../src/renter/format.js')]);
  network = learned;
  const decimals = network.decimals;
  return {
    data: { offers },
    human: (r) => {
      if (offers.length === 0) {
        r.line('No offers match.');
        r.line(r.colors.dim('Loosen the filters (--model, --min-vram, --gpus, --max-price, --region), or try again later.'));
        return;
      }
      r.table(OFFER_TABLE_HEAD, offers.map((o) => offerRow(o, decimals)));
      r.line(r.colors.dim(`Prices in tokens per GPU-hour. Rent with: iocli rent --gpus N --model MODEL --image IMAGE`));
    },
  };
}
