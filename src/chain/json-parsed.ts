// The `jsonParsed` encoding: accounts and instructions of the System, SPL Token (and Token-2022 base layouts),
// Associated Token Account and Memo programs, in the shapes a validator returns. This module picks the parser by owner
// or program (json-parsed-system.ts, json-parsed-token.ts; memos are decoded here) and wraps its answer; anything it
// cannot parse falls back to the raw form, as a validator does.
import bs58 from 'bs58';
import type { DecimalsOf, InstructionInput, Parsed } from './json-parsed-shapes.js';
import { parseSystemAccount, parseSystemInstruction } from './json-parsed-system.js';
import { parseAssociatedTokenInstruction, parseTokenInstruction, parseTokenProgramAccount } from './json-parsed-token.js';
import { TOKEN_2022_PROGRAM, TOKEN_PROGRAM } from './token-accounts.js';

export type { DecimalsOf, InstructionInput } from './json-parsed-shapes.js';

export const SYSTEM_PROGRAM = '11111111111111111111111111111111';
export const ASSOCIATED_TOKEN_PROGRAM = 'ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL';
export const MEMO_PROGRAMS = new Set(['MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr', 'Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo']);

export interface ParsedAccountData {
  program: string;
  parsed: { type: string; info: Record<string, unknown> };
  space: number;
}

/** An account's data in jsonParsed form, or undefined when its owner's layout is not one the chain parses. */
export function parseAccountData(owner: string, data: Uint8Array, decimalsOf: DecimalsOf): ParsedAccountData | undefined {
  if (owner === TOKEN_PROGRAM || owner === TOKEN_2022_PROGRAM) {
    const parsed = parseTokenProgramAccount(data, decimalsOf, owner === TOKEN_2022_PROGRAM);
    return parsed && { program: owner === TOKEN_PROGRAM ? 'spl-token' : 'spl-token-2022', parsed, space: data.length };
  }
  if (owner === SYSTEM_PROGRAM) {
    const parsed = parseSystemAccount(data);
    return parsed && { program: 'nonce', parsed, space: data.length };
  }
  return undefined;
}

/** One instruction in jsonParsed form: parsed when the program is one the chain knows, else partially decoded. */
export function parseInstruction(ix: InstructionInput): Record<string, unknown> {
  let parsed: { program: string; parsed: unknown } | undefined;
  try {
    if (ix.programId === SYSTEM_PROGRAM) parsed = wrap('system', parseSystemInstruction(ix));
    else if (ix.programId === TOKEN_PROGRAM || ix.programId === TOKEN_2022_PROGRAM) {
      parsed = wrap(ix.programId === TOKEN_PROGRAM ? 'spl-token' : 'spl-token-2022', parseTokenInstruction(ix));
    } else if (ix.programId === ASSOCIATED_TOKEN_PROGRAM) parsed = wrap('spl-associated-token-account', parseAssociatedTokenInstruction(ix));
    else if (MEMO_PROGRAMS.has(ix.programId)) {
      const text = new TextDecoder('utf-8', { fatal: true }).decode(ix.data);
      parsed = { program: 'spl-memo', parsed: text };
    }
  } catch {
    parsed = undefined; // malformed data: shown undecoded, like a validator
  }
  if (parsed) return { program: parsed.program, programId: ix.programId, parsed: parsed.parsed, stackHeight: ix.stackHeight };
  return { programId: ix.programId, accounts: ix.accounts, data: bs58.encode(ix.data), stackHeight: ix.stackHeight };
}

function wrap(program: string, parsed: Parsed): { program: string; parsed: unknown } | undefined {
  return parsed && { program, parsed };
}
