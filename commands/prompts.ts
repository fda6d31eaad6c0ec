// Prompts only on a TTY. Every prompt names the flag that answers it, so scripts get a clear error instead of a hang.
import { CancelledError, UsageError } from '../src/errors.js';

export interface Prompter {
  readonly interactive: boolean;
  confirm(message: string, options: { flag: string; default?: boolean }): Promise<boolean>;
  input(message: string, options: { flag: string; default?: string; validate?: (value: string) => string | true }): Promise<string>;
  select<T extends string>(message: string, options: { flag: string; choices: Array<{ value: T; name?: string; description?: string }>; default?: T }): Promise<T>;
  checkbox<T extends string>(message: string, options: { flag: string; choices: Array<{ value: T; name?: string; checked?: boolean }> }): Promise<T[]>;
}

export function createPrompter(interactive: boolean): Prompter {
  const refuse = (flag: string): never => {
    throw new UsageError(`Missing input: not running interactively, so nothing can be asked.`, { hint: `Pass ${flag}.` });
  };
  const guard = async <T>(ask: () => Promise<T>): Promise<T> => {
    try {
      return await ask();
    } catch (error) {
      // @inquirer/prompts throws ExitPromptError on Ctrl-C.
      if ((error as Error)?.name === 'ExitPromptError' || (error as Error)?.name === 'AbortPromptError') throw new CancelledError();
      throw error;
    }
  };
  return {
    interactive,
    async confirm(message, { flag, default: initial }) {
      if (!interactive) return refuse(flag);
      const { confirm } = await import('@inquirer/prompts');
      return guard(() => confirm({ message, default: initial }, { output: process.stderr }));
    },
    async input(message, { flag, default: initial, validate }) {
      if (!interactive) return refuse(flag);
      const { input } = await import('@inquirer/prompts');
      return guard(() => input({ message, default: initial, validate }, { output: process.stderr }));
    },
    async select(message, { flag, choices, default: initial }) {
      if (!interactive) return refuse(flag);
      const { select } = await import('@inquirer/prompts');
      return guard(() => select({ message, choices, default: initial }, { output: process.stderr }));
    },
    async checkbox(message, { flag, choices }) {
      if (!interactive) return refuse(flag);
      const { checkbox } = await import('@inquirer/prompts');
      return guard(() => checkbox({ message, choices }, { output: process.stderr }));
    },
  };
}

/** What a confirmation needs from the context: whether --yes answered it in advance, and a prompter. */
export interface Confirmer {
  globals: { yes: boolean };
  prompter: Prompter;
}

export interface ConfirmationSubject {
  /** What needs confirming, as the subject of a sentence: "Stopping a lease". */
  action: string;
  /** Say that it spends tokens. */
  spendsTokens?: boolean;
  /** How to go on without a terminal; default: pass --yes. */
  hint?: string;
}

/**
 * Fails at once when a confirmation will be needed but cannot be asked (no --yes, not interactive): call it before any
 * network call, so a script neither hangs on the question nor gets halfway first.
 */
export function ensureConfirmable(ctx: Confirmer, subject: ConfirmationSubject): void {
  if (ctx.globals.yes || ctx.prompter.interactive) return;
  throw new UsageError(`${subject.action}${subject.spendsTokens ? ' spends tokens and' : ''} needs a confirmation, but this is not an interactive terminal.`, {
    hint: subject.hint ?? 'Pass --yes to confirm in advance.',
  });
}

/** Asks to go on (--yes answers yes); no is a CancelledError saying what did not happen. */
export async function confirmOrFail(
  ctx: Confirmer,
  question: string,
  subject: ConfirmationSubject & { cancelled?: string; default?: boolean },
): Promise<void> {
  if (ctx.globals.yes) return;
  ensureConfirmable(ctx, subject);
  if (!(await ctx.prompter.confirm(question, { flag: '--yes', default: subject.default ?? false }))) {
    throw new CancelledError(subject.cancelled ?? 'Cancelled: nothing was changed.');
  }
}
