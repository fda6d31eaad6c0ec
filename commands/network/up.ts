// `iocli network up`: the local network (chain, mint + treasury, --dev coordinator with payments and faucet) on loopback.
import type { CommandSpec, OptionSpec } from '../spec.js';
import { UsageError } from '../../src/errors.js';
import { networkDataDir } from '../../src/network/local-network.js';
import { parsePortFlag } from '../port-flag.js';

export interface NetworkUpOptions {
  dataDir: string;
  port: number;
  rpcPort: number;
  detach: boolean;
  commitment: 'instant' | 'realistic';
  corsOrigins: string[];
}

/** --data-dir of every `iocli network` verb. */
export const dataDirOption: OptionSpec = { flags: '--data-dir <dir>', description: 'where the network keeps its data (default: $IOCLI_DATA_DIR or ~/.local/share/iocli/network)' };

export const networkUp: CommandSpec<NetworkUpOptions> = {
  path: 'network up',
  summary: 'Start a local network: Solana chain, token mint, treasury, coordinator (loopback only)',
  description:
    'Starts, on 127.0.0.1, an offline Solana chain (data in DIR/chain), creates the token mint and treasury, and runs a\n' +
    'development coordinator on SQLite (DIR/coordinator) that verifies payments, pays claims and refunds on that chain,\n' +
    'and runs a faucet. Writes DIR/network.json. Runs in the foreground until Ctrl-C unless --detach is given.',
  options: [
    dataDirOption,
    { flags: '--port <port>', description: 'coordinator port (0 = random)', defaultValue: '8787' },
    { flags: '--rpc-port <port>', description: 'chain JSON-RPC port (WebSocket on the next one; 0 = random)', defaultValue: '8899' },
    { flags: '--detach', description: 'run in the background (log: DIR/network.log) and return once it answers', defaultValue: false },
    {
      flags: '--commitment <mode>',
      description: 'instant: transactions are final on landing; realistic: confirmed next slot, finalized ~32 slots (~13 s) later',
      defaultValue: 'instant',
      choices: ['instant', 'realistic'],
    },
    {
      flags: '--cors-origin <origin>',
      description: 'also let browser pages from this origin call the chain RPC (repeatable; loopback origins always may; * = any)',
      defaultValue: [],
      parse: (value: string, previous: unknown) => [...((previous as string[] | undefined) ?? []), parseOrigin(value)],
    },
  ],
  examples: ['iocli network up', 'iocli network up --detach', 'iocli network up --data-dir /tmp/net --port 0 --rpc-port 0 --detach --json',
    'iocli network up --commitment realistic --cors-origin https://explorer.solana.com',
  ],
  parse({ flags, env }) {
    const f = flags as { dataDir?: string; port: string; rpcPort: string; detach: boolean; commitment: 'instant' | 'realistic'; corsOrigin: string[] };
    return {
      dataDir: networkDataDir(f.dataDir, env),
      port: parsePortFlag('--port', f.port),
      rpcPort: parsePortFlag('--rpc-port', f.rpcPort),
      detach: Boolean(f.detach),
      commitment: f.commitment,
      corsOrigins: f.corsOrigin,
    };
  },
  async run(options, ctx) {
    const { dataDir, port, rpcPort, commitment, corsOrigins } = options;
    const network = await import('../../src/network/local-network.js');
    if (options.detach) {
      const entry = process.argv[1]!;
      const spinner = await ctx.out.spinner(`Starting the local network in the background (${dataDir})`);
      let info: Awaited<ReturnType<typeof network.spawnDetachedNetwork>>;
      try {
        info = await network.spawnDetachedNetwork(entry, ['network', 'up', '--data-dir', dataDir, '--port', String(port), '--rpc-port', String(rpcPort), '--commitment', commitment, ...corsOrigins.flatMap((origin) => ['--cors-origin', origin])], dataDir);
        spinner.succeed(`Local network running (pid ${info.pid})`);
      } catch (error) {
        spinner.fail('The local network did not start');
        throw error;
      }
      return upResult(info, dataDir, true);
    }
    const running = await network.startLocalNetwork({ dataDir, port, rpcPort, commitment, corsOrigins, onError: (error, where) => ctx.out.warn(`${where}: ${(error as Error)?.message ?? String(error)}`) });
    const result = upResult(running.info, dataDir, false);
    // Foreground: a script waiting on --json gets its one document as soon as the network answers (not at shutdown).
    if (ctx.globals.json) await ctx.out.result(result);
    // People get the same facts now on stderr (the command returns only at shutdown).
    ctx.out.info(`Local network up: API ${running.info.apiUrl}, RPC ${running.info.rpcUrl}. Ctrl-C to stop.`);
    for (const line of nextSteps(running.info.apiUrl, running.info.rpcUrl)) ctx.out.info(`  ${line}`);
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) return resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    ctx.out.info('Shutting down the local network…');
    await running.close();
    if (ctx.globals.json) return;
    return { data: { ...result.data, stopped: true } };
  },
};

/** An origin as browsers send it (scheme://host[:port]), or '*'. */
function parseOrigin(value: string): string {
  if (value === '*') return value;
  let origin: string | undefined;
  try {
    origin = new URL(value).origin;
  } catch {
    origin = undefined;
  }
  if (!origin || origin === 'null' || origin !== value.replace(/\/$/, '')) {
    throw new UsageError(`--cors-origin must be an origin such as https://explorer.example.com (no path), or *; got "${value}".`);
  }
  return origin;
}

function nextSteps(apiUrl: string, rpcUrl: string): string[] {
  return [
    `export IOCLI_API_URL=${apiUrl} IOCLI_RPC_URL=${rpcUrl}   # unless you use the default ports`,
    'iocli wallet new && iocli wallet airdrop --sol 1 --tokens 100',
    'iocli provide --simulate-gpus 2        # in another terminal: act as a provider',
    'iocli rent --gpus 1 --image busybox --hours 1',
  ];
}

function upResult(info: import('../../src/network/local-network.js').NetworkFile, dataDir: string, detached: boolean) {
  return {
    data: { ...info, dataDir, detached },
    human: (r: import('../output.js').HumanRenderer) => {
      r.keyValues({ API: info.apiUrl, RPC: info.rpcUrl, WebSocket: info.wsUrl, Mint: info.mint, Treasury: info.treasury, PID: String(info.pid), 'Data dir': dataDir });
      r.line('Next:');
      for (const line of nextSteps(info.apiUrl, info.rpcUrl)) r.line(`  ${line}`);
      if (detached) r.line('Stop it with: iocli network down');
    },
  };
}
