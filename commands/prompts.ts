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
