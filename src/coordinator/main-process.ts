// A bare process entry for the coordinator (crash tests, supervisors): options from argv JSON, prints the URL, exits on signals.
// `solana` in the options wires the real payment verifier and payout sender. Test-only pauses come from the environment:
// IOCLI_TEST_PAUSE_AFTER_PAYOUT_SIGN=ms / IOCLI_TEST_PAUSE_AFTER_PAYOUT_SEND=ms (a line on stderr marks each pause).
import { startCoordinator, type CoordinatorOptions } from './server.js';
import type { SolanaPaymentsConfig } from './solana-payments.js';

const { solana, ...options } = JSON.parse(process.argv[2] ?? '{}') as CoordinatorOptions & { solana?: SolanaPaymentsConfig };
if (solana) {
  const { createSolanaHooks } = await import('./solana-payments.js');
  const hooks = await createSolanaHooks(solana);
  Object.assign(options, { paymentVerifier: hooks.paymentVerifier, payoutSender: hooks.payoutSender, faucet: hooks.faucet, network: { ...hooks.network, ...options.network } });
}
const afterSignMs = Number(process.env.IOCLI_TEST_PAUSE_AFTER_PAYOUT_SIGN ?? 0);
const afterSendMs = Number(process.env.IOCLI_TEST_PAUSE_AFTER_PAYOUT_SEND ?? 0);
if (afterSignMs > 0 || afterSendMs > 0) {
  options.payoutPauses = { afterSignMs, afterSendMs, notify: (stage, id) => process.stderr.write(`IOCLI_TEST_PAUSED ${stage} ${id}\n`) };
}
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
