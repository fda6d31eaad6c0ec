// `iocli demo`: the whole provide → rent → earn loop on a throwaway local network.
import { UsageError } from '../src/errors.js';
import type { CommandSpec } from './spec.js';

export interface DemoOptions {
  keep: boolean;
  gpus: number;
  seconds: number;
}

export const demo: CommandSpec<DemoOptions> = {
  path: 'demo',
  summary: 'Run the whole provide → rent → earn loop on a throwaway local network',
  description:
    'A guided run of real iocli commands on a local network in a temporary folder: starts the network (local Solana chain,\n' +
    'token mint, coordinator), a provider with SIMULATED GPUs that runs real Docker containers, funds a renter, rents the GPUs,\n' +
    "shows the workload's logs, stops the lease early (pro-rata refund on chain), claims the provider's rewards and prints the\n" +
    'on-chain balances. Everything is removed afterwards, also on Ctrl-C. Needs a running Docker engine; nothing leaves this machine.',
  options: [
    { flags: '--gpus <n>', description: 'simulated GPUs on the provider and GPUs rented', defaultValue: '8' },
    { flags: '--seconds <s>', description: 'how long the workload runs before the lease is stopped', defaultValue: '8' },
    { flags: '--keep', description: 'leave the network, provider and temporary folder running for exploring (prints how to stop them)' },
  ],
  examples: ['iocli demo', 'iocli demo --gpus 4 --seconds 20', 'iocli demo --json > demo-result.json'],
  parse({ flags }) {
    const f = flags as { keep?: boolean; gpus: string; seconds: string };
    const gpus = Number(f.gpus);
    const seconds = Number(f.seconds);
    if (!Number.isInteger(gpus) || gpus < 1 || gpus > 16) throw new UsageError(`Invalid --gpus "${f.gpus}".`, { hint: 'Use 1 to 16.' });
    if (!Number.isFinite(seconds) || seconds < 1 || seconds > 600) throw new UsageError(`Invalid --seconds "${f.seconds}".`, { hint: 'Use 1 to 600.' });
    return { keep: Boolean(f.keep), gpus, seconds };
  },
  async run(options, ctx) {
    const { runDemo } = await import('./demo-run.js');
    return runDemo(options, ctx);
  },
};
