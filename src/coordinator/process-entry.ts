// The coordinator as a process of its own (main-process.ts; crash tests, supervisors, benchmarks): options as JSON,
// `solana` in them wires the real payment verifier, payout sender and faucet; the URL is printed as one JSON line; a
// signal closes it.
import type { PayoutSender } from './hooks.js';
import { startCoordinator, type CoordinatorOptions } from './server.js';
import type { SolanaPaymentsConfig } from './solana-payments.js';

export interface ProcessComposition {
  /** Wraps the payout sender before the coordinator gets it (crash tests pause inside a wrapper to kill the process there). */
  wrapPayoutSender?(sender: PayoutSender): PayoutSender;
}

export async function serveCoordinatorProcess(optionsJson: string | undefined, composition: ProcessComposition = {}): Promise<void> {
  const { solana, ...options } = JSON.parse(optionsJson ?? '{}') as CoordinatorOptions & { solana?: SolanaPaymentsConfig };
  if (solana) {
    const { createSolanaHooks } = await import('./solana-payments.js');
    const hooks = await createSolanaHooks(solana);
    Object.assign(options, { paymentVerifier: hooks.paymentVerifier, payoutSender: hooks.payoutSender, faucet: hooks.faucet, network: { ...hooks.network, ...options.network } });
  }
  if (options.payoutSender && composition.wrapPayoutSender) options.payoutSender = composition.wrapPayoutSender(options.payoutSender);
  const server = await startCoordinator(options);
  process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);
  const shutdown = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
