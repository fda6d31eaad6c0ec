// `iocli coordinator start`: run the coordinator service in the foreground until Ctrl-C / SIGTERM.
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import { parsePortFlag } from '../port-flag.js';
import type { CommandSpec } from '../spec.js';

export interface CoordinatorStartOptions {
  port: number;
  host: string;
  /** SQLite's folder; default <config dir>/coordinator (known once settings are read). Unused with databaseUrl. */
  dataDir?: string;
  /** --database-url, else DATABASE_URL. */
  databaseUrl?: string;
  dev: boolean;
  feeBps?: number;
  heartbeatGrace?: number;
  rpcUrl?: string;
  mint?: string;
  treasuryKeypair?: string;
  trustedProxies?: string[];
  replicaUrl?: string;
}

function parseNonNegative(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} must be a whole number ≥ 0, got "${value}".`);
    return n;
  };
}

export const coordinatorStart: CommandSpec<CoordinatorStartOptions> = {
  path: 'coordinator start',
  summary: 'Run the coordinator service (HTTP API) in the foreground',
  description:
    'Serves the /v1 API on loopback by default. Storage is SQLite in --data-dir unless --database-url (or DATABASE_URL) names a PostgreSQL database.\n' +
    '--dev accepts simulated GPUs and, without a payment verifier, unpaid leases: for local networks only.',
  options: [
    { flags: '--port <port>', description: 'TCP port (0 = any free port)', defaultValue: '8080', parse: (value) => parsePortFlag('--port', value) },
    { flags: '--host <host>', description: 'Address to listen on', defaultValue: '127.0.0.1' },
    { flags: '--data-dir <dir>', description: 'SQLite data directory (default: <config dir>/coordinator)' },
    { flags: '--database-url <url>', description: 'PostgreSQL URL (env DATABASE_URL)' },
    { flags: '--dev', description: 'Development mode: simulated GPUs and unpaid leases allowed', defaultValue: false },
    { flags: '--fee-bps <bps>', description: 'Network fee in basis points of provider earnings', parse: parseNonNegative('--fee-bps') },
    { flags: '--heartbeat-grace <seconds>', description: 'Seconds without heartbeat before a node is offline', parse: parseNonNegative('--heartbeat-grace') },
    { flags: '--rpc-url <url>', description: 'Solana RPC for payments and payouts (with --mint and --treasury-keypair)' },
    { flags: '--mint <address>', description: 'SPL token mint that leases are paid in' },
    { flags: '--treasury-keypair <path>', description: 'keypair owning the treasury token account; signs claims and refunds' },
    {
      flags: '--trusted-proxies <list>',
      description: 'comma-separated addresses/CIDRs of reverse proxies whose X-Forwarded-For names the client (rate limits)',
      parse: (value) => value.split(',').map((part) => part.trim()).filter(Boolean),
    },
    { flags: '--replica-url <url>', description: 'how the other replicas reach this one (relay streams are forwarded to the replica holding the agent; default: the listen address with PostgreSQL)' },
  ],
  examples: [
    'iocli coordinator start --dev',
    'iocli coordinator start --port 9000 --database-url postgres://user:pass@127.0.0.1/iocli',
    'iocli coordinator start --rpc-url devnet --mint <MINT> --treasury-keypair ./treasury.json',
  ],
  parse({ flags, env }) {
    const options = flags as unknown as CoordinatorStartOptions;
    const money = [options.rpcUrl, options.mint, options.treasuryKeypair];
    if (money.some((v) => v !== undefined) && money.some((v) => v === undefined)) {
      throw new UsageError('Payments need all three of --rpc-url, --mint and --treasury-keypair.', { hint: 'Pass all three, or none (a --dev coordinator then accepts unpaid leases).' });
    }
    const databaseUrl = options.databaseUrl ?? (env.DATABASE_URL || undefined);
    // The default --port comes as text (commander parses only given values).
    return { ...options, port: parsePortFlag('--port', options.port), dev: Boolean(options.dev), ...(databaseUrl ? { databaseUrl, dataDir: undefined } : {}) };
  },
  async run(options, ctx) {
    const { databaseUrl } = options;
    const dataDir = databaseUrl ? undefined : (options.dataDir ?? join((await ctx.settings()).configDir, 'coordinator'));
    let hooks: Awaited<ReturnType<typeof import('../../src/coordinator/solana-payments.js').createSolanaHooks>> | undefined;
    if (options.rpcUrl && options.mint && options.treasuryKeypair) {
      const [{ createSolanaHooks }, { resolveRpcUrl, clusterOf }, { expandHome }] = await Promise.all([
        import('../../src/coordinator/solana-payments.js'),
        import('../../src/wallet/connection.js'),
        import('../../src/wallet/keypair.js'),
      ]);
      const rpcUrl = resolveRpcUrl(options.rpcUrl, '--rpc-url');
      hooks = await createSolanaHooks({ rpcUrl, mint: options.mint, treasuryKeypairPath: expandHome(options.treasuryKeypair) });
      Object.assign(hooks.network, { cluster: clusterOf(rpcUrl) });
    }
    const { startCoordinator } = await import('../../src/coordinator/server.js');
    const server = await startCoordinator({
      ...(hooks ? { network: hooks.network, paymentVerifier: hooks.paymentVerifier, payoutSender: hooks.payoutSender } : {}),
      port: options.port,
      host: options.host,
      dataDir,
      databaseUrl,
      dev: options.dev,
      feeBps: options.feeBps,
      heartbeatGraceMs: options.heartbeatGrace === undefined ? undefined : options.heartbeatGrace * 1000,
      trustedProxies: options.trustedProxies,
      replicaUrl: options.replicaUrl,
      onError: (error, where) => ctx.out.warn(`${where}: ${(error as Error)?.message ?? String(error)}`),
    });
    ctx.out.info(`Coordinator listening on ${server.url} (${server.engine}${options.dev ? ', dev mode' : ''}). Ctrl-C to stop.`);
    // Ctrl-C and SIGTERM reach here as ctx.signal (commands/main.ts turns signals into it).
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) return resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    ctx.out.info('Shutting down…');
    await server.close();
    return { data: { url: server.url, engine: server.engine, stopped: true } };
  },
};
