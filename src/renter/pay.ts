// One way to pay for something on the coordinator (a new lease, an extension): check the wallet can afford it, stop
// at a dry run (signed and simulated, never sent), confirm, then sign the transfer and send the request it pays for,
// retrying unknown outcomes under one idempotency key, and say how to retry safely when the outcome stays unknown.
// The asking and the progress display come in from the command layer; nothing here talks to a terminal.
import type { NetworkInfo } from '../api/schemas/network.js';
import type { Keypair } from '../wallet/keypair.js';
import { explorerLink } from '../wallet/explorer.js';
import { paymentError } from './errors.js';
import { withRetries, withRetryHint } from './lease-flow.js';
import type { SimulationResult } from './payment.js';

/** A step shown while it runs (a spinner on a terminal, plain lines otherwise). */
export interface Progress {
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
}

export interface PayForRequest<T> {
  network: NetworkInfo;
  /** The RPC that balances, blockhashes and simulations come from. */
  rpcUrl: string;
  payer: Keypair;
  /** Base units. */
  amount: number;
  /** What the payment's memo names: a quote id, or an extension reference. */
  reference: string;
  /** Check the balance before anything else (a retry of a payment that already went through may find it lower). */
  checkAffordable: boolean;
  /** Sign and simulate the payment, then stop: nothing is sent or asked. */
  dryRun: boolean;
  idempotencyKey: string;
  /** The command that repeats this one, for the "retry safely with" hint. */
  retryCommand: string;
  signal?: AbortSignal;
  /** Pause before the first retry (longer before each next one); default 1 s. */
  retryDelayMs?: number;
  /** Asked after the dry-run point and before anything is signed or sent; throws to cancel. */
  confirm(): Promise<void>;
  /** Starts the progress display for the paying step. */
  progress(text: string): Promise<Progress>;
  text: { paying: string; failed: string; done(result: T): string };
  /**
   * Called when payFor stops before the payment could have been sent (declined, cancelled, cannot afford it, signing
   * failed): gives back what the request holds (a quote's GPUs). Best effort; its own failure is ignored.
   */
  abandon?(): Promise<void>;
  /** Sends the request the payment pays for (transaction undefined on a network that takes no payment). */
  submit(transaction: string | undefined): Promise<T>;
  /** The payment signature the coordinator recorded, when it differs from ours (a replayed request's first payment). */
  recordedSignature?(result: T): string | null | undefined;
}

export interface PaymentSummary {
  amount: number;
  signature: string;
  explorer?: string;
}

export type PayForOutcome<T> =
  | { dryRun: true; payment: (PaymentSummary & { simulation: SimulationResult }) | null }
  | { dryRun: false; result: T; payment: PaymentSummary | null };

export async function payFor<T>(request: PayForRequest<T>): Promise<PayForOutcome<T>> {
  const { network, rpcUrl, payer, amount, reference } = request;
  // A dev coordinator without a mint accepts unpaid leases: then there is nothing to check, sign or simulate.
  const payments = network.mint !== null ? await import('./payment.js') : undefined;
  const plan = { network, rpcUrl, payer, amount, reference };
  // Until the payment is handed to `submit`, nothing can have been sent: stopping gives back what the request holds.
  const abandoned = async (error: unknown): Promise<never> => {
    if (!request.dryRun) await request.abandon?.().catch(() => {});
    throw error;
  };
  if (payments && request.checkAffordable) await payments.ensureAffordable(plan).catch(abandoned);

  if (request.dryRun) {
    if (!payments) return { dryRun: true, payment: null };
    const prepared = await payments.preparePayment(plan);
    return { dryRun: true, payment: { amount: prepared.amount, signature: prepared.signature, simulation: await payments.simulatePayment(rpcUrl, prepared) } };
  }

  await request.confirm().catch(abandoned);
  const progress = await request.progress(request.text.paying);
  let payment: PaymentSummary | null = null;
  let result: T;
  try {
    let transaction: string | undefined;
    if (payments) {
      const prepared = await payments.preparePayment(plan).catch(abandoned);
      transaction = prepared.transaction;
      payment = { amount: prepared.amount, signature: prepared.signature, explorer: explorerLink(prepared.signature, rpcUrl) };
    }
    result = await withRetries(() => request.submit(transaction), {
      signal: request.signal,
      delayMs: request.retryDelayMs,
      onRetry: (attempt, error) => progress.update(`Retrying (${attempt}) after: ${error.message}`),
    });
  } catch (error) {
    progress.fail(request.text.failed);
    throw withRetryHint(paymentError(error) ?? error, request.retryCommand, request.idempotencyKey);
  }
  const recorded = request.recordedSignature?.(result);
  if (payment && recorded) payment = { ...payment, signature: recorded, explorer: explorerLink(recorded, rpcUrl) };
  progress.succeed(request.text.done(result));
  return { dryRun: false, result, payment };
}
