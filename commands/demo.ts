// `iocli demo`: the whole provide → rent → earn loop on a throwaway local network. The steps are src/demo/demo.ts;
// this file parses the flags and renders what the steps report.
import { UsageError } from '../src/errors.js';
import type { Context } from './context.js';
import type { CommandResult, CommandSpec } from './spec.js';

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
  run: runDemoCommand,
};

async function runDemoCommand(options: DemoOptions, ctx: Context): Promise<CommandResult> {
  const [{ runDemo }, colors, { join }] = await Promise.all([import('../src/demo/demo.js'), ctx.out.colors(), import('node:path')]);
  const summary = await runDemo(
    { ...options, env: ctx.env, show: !ctx.globals.json && !ctx.globals.quiet, color: ctx.out.color, signal: ctx.signal, now: ctx.now },
    {
      step: (index, total, title) => {
        ctx.out.info('');
        ctx.out.info(colors.bold(colors.cyan(`[${index}/${total}] ${title}`)));
      },
      command: (line) => ctx.out.info(colors.dim(line)),
      note: (text) => ctx.out.info(text),
      balances: async (rows) => {
        if (ctx.globals.json) return;
        (await ctx.out.humanRenderer()).table(['Wallet', 'Address', 'SOL', 'Tokens'], rows.map((row) => [row.name, row.address, row.sol.toFixed(6), row.tokens]));
      },
      cleaningUp: async (work) => {
        const spinner = await ctx.out.spinner('Cleaning up: stopping the provider (removing its containers) and the local network');
        await work();
        spinner.succeed('Cleaned up: provider stopped, containers removed, local network down, temporary folder deleted');
      },
    },
  );
  const network = summary.network as { apiUrl: string; rpcUrl: string };
  const root = summary.dataDir as string;
  return {
    data: summary,
    human: (r) => {
      r.success('Demo complete: provided, rented, paid, refunded and rewarded, all on a local chain.');
      if (options.keep) {
        r.line(`Kept running: IOCLI_API_URL=${network.apiUrl} IOCLI_RPC_URL=${network.rpcUrl} IOCLI_CONFIG_DIR=${join(root, 'config')}`);
        r.line(`Stop with: iocli network down --data-dir ${join(root, 'network')} (and kill the provider agent), then rm -rf ${root}`);
      }
    },
  };
}
