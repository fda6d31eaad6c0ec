// Pure parts of the local chain: blockhash rotation, token amounts, error shapes.
import { describe, expect, it } from 'vitest';
import { BLOCKHASH_VALIDITY_SLOTS, BlockhashClock } from '../../src/chain/blockhash-clock.js';
import { preflightFailure, describeTransactionError } from '../../src/chain/svm-errors.js';
import { uiTokenAmount } from '../../src/chain/token-accounts.js';

describe('BlockhashClock', () => {
  it('keeps exactly the last 150 slots of blockhashes valid', () => {
    const clock = new BlockhashClock('genesis', 1);
    const first = clock.latest();
    expect(first.lastValidBlockHeight).toBe(1 + BLOCKHASH_VALIDITY_SLOTS);
    clock.advance(BLOCKHASH_VALIDITY_SLOTS);
    expect(clock.isValid(first.blockhash)).toBe(true);
    clock.advance();
    expect(clock.isValid(first.blockhash)).toBe(false);
    expect(clock.isValid(clock.latest().blockhash)).toBe(true);
  });

  it('derives the same blockhashes after a restart', () => {
    const before = new BlockhashClock('genesis', 500);
    const after = new BlockhashClock('genesis', 510);
    expect(after.isValid(before.latest().blockhash)).toBe(true);
    expect(new BlockhashClock('other', 500).isValid(before.latest().blockhash)).toBe(false);
  });
});

describe('token amounts and errors', () => {
  it.each([
    [0n, '0'],
    [1n, '0.000001'],
    [1_250_000n, '1.25'],
    [42_000_000n, '42'],
  ])('%s base units → %s', (amount, text) => {
    expect(uiTokenAmount(amount, 6).uiAmountString).toBe(text);
  });

  it('formats preflight failures like a validator', () => {
    const error = preflightFailure({ InstructionError: [0, { Custom: 1 }] }, ['log']);
    expect(error.code).toBe(-32002);
    expect(error.message).toBe('Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1');
    expect(error.data).toMatchObject({ err: { InstructionError: [0, { Custom: 1 }] }, logs: ['log'] });
    expect(describeTransactionError('BlockhashNotFound')).toBe('Blockhash not found');
    expect(preflightFailure('SignatureFailure', []).code).toBe(-32003);
  });
});
