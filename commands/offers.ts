// `iocli offers`: the capacity on the market, cheapest first. A public read: no wallet needed.
import type { CommandSpec } from './spec.js';

export interface OffersOptions {
  model?: string;
  minVram?: string;
  gpus?: string;
  maxPrice?: string;
  region?: string;
  sort: 'price' | 'reliability';
  limit?: string;
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
  async run(_args, options, ctx) {
    const { runOffers } = await import('./rent-run.js');
    return runOffers(options, ctx);
  },
};
