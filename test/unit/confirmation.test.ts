// The one confirmation helper every money-moving or destructive command uses: --yes answers it, a terminal asks,
// anything else fails before work starts with a usage error that names --yes.
import { describe, expect, it } from 'vitest';
import { confirmOrFail, createPrompter, ensureConfirmable, type Prompter } from '../../commands/prompts.js';
import { CancelledError, UsageError } from '../../src/errors.js';

const notATerminal = createPrompter(false);
function terminalAnswering(answer: boolean, asked: string[]): Prompter {
  return { ...notATerminal, interactive: true, confirm: async (message) => (asked.push(message), answer) };
}

describe('ensureConfirmable', () => {
  it.each([
    [{ action: 'Stopping a lease' }, 'Stopping a lease needs a confirmation, but this is not an interactive terminal.', 'Pass --yes to confirm in advance.'],
    [{ action: 'Renting', spendsTokens: true, hint: 'Pass --yes or --dry-run.' }, 'Renting spends tokens and needs a confirmation, but this is not an interactive terminal.', 'Pass --yes or --dry-run.'],
  ])('not interactive and no --yes: %o fails', (subject, message, hint) => {
    const error = (() => {
      try {
        ensureConfirmable({ globals: { yes: false }, prompter: notATerminal }, subject);
      } catch (e) {
        return e;
      }
    })() as UsageError;
    expect(error).toBeInstanceOf(UsageError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(message);
    expect(error.hint).toBe(hint);
  });

  it.each([
    ['--yes', { yes: true }, notATerminal],
    ['a terminal', { yes: false }, terminalAnswering(true, [])],
  ])('passes with %s', (_name, globals, prompter) => {
    expect(() => ensureConfirmable({ globals, prompter }, { action: 'x' })).not.toThrow();
  });
});

describe('confirmOrFail', () => {
  it('--yes answers without asking', async () => {
    const asked: string[] = [];
    await confirmOrFail({ globals: { yes: true }, prompter: terminalAnswering(false, asked) }, 'Go?', { action: 'Going' });
    expect(asked).toEqual([]);
  });

  it('a terminal asks; yes goes on, no cancels with the given words', async () => {
    const asked: string[] = [];
    await confirmOrFail({ globals: { yes: false }, prompter: terminalAnswering(true, asked) }, 'Go?', { action: 'Going' });
    expect(asked).toEqual(['Go?']);
    await expect(confirmOrFail({ globals: { yes: false }, prompter: terminalAnswering(false, asked) }, 'Pay?', { action: 'Paying', cancelled: 'Cancelled: nothing was paid.' })).rejects.toEqual(
      new CancelledError('Cancelled: nothing was paid.'),
    );
  });

  it('not a terminal: the usage error, not a generic "missing input"', async () => {
    await expect(confirmOrFail({ globals: { yes: false }, prompter: notATerminal }, 'Reset?', { action: 'Resetting all settings' })).rejects.toThrow(
      'Resetting all settings needs a confirmation, but this is not an interactive terminal.',
    );
  });
});
