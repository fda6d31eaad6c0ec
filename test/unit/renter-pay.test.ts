// payFor, the one paying flow of `rent` and `lease extend`, on a development network that takes no payment (so no chain
// is involved): dry runs stop before asking or sending, the question comes before any progress, unknown outcomes are
// retried under one idempotency key, refused payments and unknown outcomes come back with what to do next.
import { describe, expect, it } from 'vitest';
import type { NetworkInfo } from '../../src/api/schemas/network.js';
import { CancelledError, ExternalError, UserError } from '../../src/errors.js';
import { payFor, type PayForRequest } from '../../src/renter/pay.js';
import { generateKeypair } from '../../src/wallet/keypair.js';

const unpaidNetwork: NetworkInfo = { cluster: 'localnet', rpcUrl: 'http://127.0.0.1:1', mint: null, decimals: 6, treasury: null, feeBps: 0, dev: true };

function scenario(failures: Error[], over: Partial<PayForRequest<{ id: string }>> = {}) {
  const events: string[] = [];
  const request: PayForRequest<{ id: string }> = {
    network: unpaidNetwork,
    rpcUrl: unpaidNetwork.rpcUrl,
    payer: generateKeypair(),
    amount: 5_000_000,
    reference: 'quote_1',
    checkAffordable: true,
    dryRun: false,
    idempotencyKey: 'key-123456',
    retryCommand: 'iocli rent …',
    retryDelayMs: 1,
    confirm: async () => {
      events.push('confirm');
    },
    progress: async (text) => {
      events.push(`progress ${text}`);
      return { update: (t) => events.push(`update ${t}`), succeed: (t) => events.push(`succeed ${t}`), fail: (t) => events.push(`fail ${t}`) };
    },
    text: { paying: 'Paying', failed: 'Not created', done: (r) => `Created ${r.id}` },
    submit: async (transaction) => {
      events.push(`submit ${transaction ?? 'unpaid'}`);
      const failure = failures.shift();
      if (failure) throw failure;
      return { id: 'lease_1' };
    },
    ...over,
  };
  return { events, run: () => payFor(request) };
}

describe('payFor', () => {
  it('asks, then shows progress, then sends once; an unpaid network sends no transaction', async () => {
    const { events, run } = scenario([]);
    await expect(run()).resolves.toEqual({ dryRun: false, result: { id: 'lease_1' }, payment: null });
    expect(events).toEqual(['confirm', 'progress Paying', 'submit unpaid', 'succeed Created lease_1']);
  });

  it.each([
    ['declined', new CancelledError('Cancelled: nothing was paid.'), async () => {}],
    ['declined, and the release itself fails', new CancelledError('Cancelled: nothing was paid.'), async () => { throw new ExternalError('coordinator gone'); }],
  ])('%s: what the request holds is given back, and the error stays the one that stopped it', async (_name, stop, release) => {
    const released: string[] = [];
    const { events, run } = scenario([], {
      confirm: async () => { throw stop; },
      abandon: async () => { released.push('quote_1'); await release(); },
    });
    await expect(run()).rejects.toBe(stop);
    expect(released).toEqual(['quote_1']);
    expect(events).toEqual([]);
  });

  it('nothing is given back once the payment may have been sent, nor on a dry run', async () => {
    const released: string[] = [];
    const abandon = async () => { released.push('quote_1'); };
    const refused = scenario([new UserError('Payment rejected', { code: 'PAYMENT_REJECTED' })], { abandon });
    await expect(refused.run()).rejects.toThrow('Payment rejected');
    await expect(scenario([], { abandon }).run()).resolves.toMatchObject({ dryRun: false });
    await expect(scenario([], { abandon, dryRun: true }).run()).resolves.toMatchObject({ dryRun: true });
    expect(released).toEqual([]);
  });

  it('a dry run neither asks nor sends', async () => {
    const { events, run } = scenario([], { dryRun: true });
    await expect(run()).resolves.toEqual({ dryRun: true, payment: null });
    expect(events).toEqual([]);
  });

  it('a "no" at the question sends nothing', async () => {
    const { events, run } = scenario([], { confirm: async () => { throw new CancelledError('Cancelled: nothing was paid.'); } });
    await expect(run()).rejects.toBeInstanceOf(CancelledError);
    expect(events).toEqual([]);
  });

  it('retries unknown outcomes (shown as progress) and succeeds', async () => {
    const { events, run } = scenario([new ExternalError('timed out'), new ExternalError('502')]);
    await expect(run()).resolves.toMatchObject({ result: { id: 'lease_1' } });
    expect(events.filter((e) => e.startsWith('submit'))).toHaveLength(3);
    expect(events).toContain('update Retrying (1) after: timed out');
    expect(events.at(-1)).toBe('succeed Created lease_1');
  });

  it('an outcome still unknown after the retries says how to retry safely with the key', async () => {
    const { events, run } = scenario([new ExternalError('down'), new ExternalError('down'), new ExternalError('down')]);
    const error = (await run().catch((e: unknown) => e)) as UserError;
    expect(error).toBeInstanceOf(ExternalError);
    expect(error.hint).toBe('It may or may not have gone through. Retry safely with: iocli rent … --idempotency-key key-123456');
    expect(events.at(-1)).toBe('fail Not created');
  });

  it('a refused payment is not retried and says what to do', async () => {
    const { events, run } = scenario([new UserError('Payment rejected: insufficient funds', { code: 'PAYMENT_REJECTED' })]);
    await expect(run()).rejects.toMatchObject({ code: 'PAYMENT_REJECTED', exitCode: 4, hint: expect.stringMatching(/iocli wallet balance/) });
    expect(events.filter((e) => e.startsWith('submit'))).toHaveLength(1);
  });
});
