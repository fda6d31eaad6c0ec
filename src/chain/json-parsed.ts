// The `jsonParsed` encoding: accounts and instructions of the System, SPL Token (and Token-2022 base layouts),
// Associated Token Account and Memo programs, in the shapes a validator returns (agave's account-decoder
// parse_token.rs / parse_nonce.rs and transaction-status parse_system.rs / parse_token.rs /
// parse_associated_token.rs). Anything it cannot parse falls back to the raw form, as a validator does.

import bs58 from 'bs58';
import { TOKEN_2022_PROGRAM, TOKEN_PROGRAM, uiTokenAmount } from './token-accounts.js';
import type { UiTokenAmount } from './token-accounts.js';

export const SYSTEM_PROGRAM = '11111111111111111111111111111111';
export const ASSOCIATED_TOKEN_PROGRAM = 'ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL';
export const MEMO_PROGRAMS = new Set(['MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr', 'Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo']);

const TOKEN_ACCOUNT_LEN = 165;
const MINT_LEN = 82;
const MULTISIG_LEN = 355;
const NONCE_LEN = 80;

export interface ParsedAccountData {
  program: string;
  parsed: { type: string; info: Record<string, unknown> };
  space: number;
}

/** Looks up a mint's decimals (token accounts and checked instructions need them). */
export type DecimalsOf = (mint: string) => number | undefined;

/** An account's data in jsonParsed form, or undefined when its owner's layout is not one the chain parses. */
export function parseAccountData(owner: string, data: Uint8Array, decimalsOf: DecimalsOf): ParsedAccountData | undefined {
  if (owner === TOKEN_PROGRAM || owner === TOKEN_2022_PROGRAM) {
    const parsed = parseTokenProgramAccount(data, decimalsOf, owner === TOKEN_2022_PROGRAM);
    return parsed && { program: owner === TOKEN_PROGRAM ? 'spl-token' : 'spl-token-2022', parsed, space: data.length };
  }
  if (owner === SYSTEM_PROGRAM && data.length === NONCE_LEN) {
    const parsed = parseNonce(data);
    return parsed && { program: 'nonce', parsed, space: data.length };
  }
  return undefined;
}

function parseTokenProgramAccount(data: Uint8Array, decimalsOf: DecimalsOf, is2022: boolean): ParsedAccountData['parsed'] | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const key = (offset: number) => bs58.encode(data.subarray(offset, offset + 32));
  const optionalKey = (offset: number) => (view.getUint32(offset, true) === 1 ? key(offset + 4) : null);
  // Token-2022 marks extended layouts with an account-type byte at offset 165 (1 = mint, 2 = account).
  const accountType = data.length > TOKEN_ACCOUNT_LEN ? data[TOKEN_ACCOUNT_LEN] : undefined;
  const extensions = is2022 && data.length > TOKEN_ACCOUNT_LEN + 1 ? { extensions: [{ extension: 'unparseableExtension' }] } : {};
  if (data.length === TOKEN_ACCOUNT_LEN || (is2022 && accountType === 2)) {
    const mint = key(0);
    const decimals = decimalsOf(mint);
    if (decimals === undefined) return undefined;
    const amount = (offset: number) => uiTokenAmount(view.getBigUint64(offset, true), decimals);
    const state = ['uninitialized', 'initialized', 'frozen'][data[108]!];
    if (state === undefined) return undefined;
    const isNative = view.getUint32(109, true) === 1;
    const delegate = optionalKey(72);
    const closeAuthority = optionalKey(129);
    const info: Record<string, unknown> = { isNative, mint, owner: key(32), state, tokenAmount: amount(64) };
    if (delegate) Object.assign(info, { delegate, delegatedAmount: amount(121) });
    if (isNative) info.rentExemptReserve = amount(113);
    if (closeAuthority) info.closeAuthority = closeAuthority;
    return { type: 'account', info: { ...info, ...extensions } };
  }
  if (data.length === MINT_LEN || (is2022 && accountType === 1)) {
    return {
      type: 'mint',
      info: {
        mintAuthority: optionalKey(0),
        supply: view.getBigUint64(36, true).toString(),
        decimals: data[44],
        isInitialized: data[45] === 1,
        freezeAuthority: optionalKey(46),
        ...extensions,
      },
    };
  }
  if (data.length === MULTISIG_LEN) {
    const n = data[1]!;
    return {
      type: 'multisig',
      info: {
        numRequiredSigners: data[0],
        numValidSigners: n,
        isInitialized: data[2] === 1,
        signers: Array.from({ length: n }, (_, i) => key(3 + 32 * i)),
      },
    };
  }
  return undefined;
}

function parseNonce(data: Uint8Array): ParsedAccountData['parsed'] | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  // Versions (u32: 0 legacy, 1 current), State (u32: 0 uninitialized, 1 initialized), authority, blockhash, fee.
  const state = view.getUint32(4, true);
  if (state === 0) return { type: 'uninitialized', info: {} };
  if (state !== 1) return undefined;
  return {
    type: 'initialized',
    info: {
      authority: bs58.encode(data.subarray(8, 40)),
      blockhash: bs58.encode(data.subarray(40, 72)),
      feeCalculator: { lamportsPerSignature: view.getBigUint64(72, true).toString() },
    },
  };
}

export interface InstructionInput {
  programId: string;
  /** The instruction's accounts, already resolved to addresses. */
  accounts: string[];
  data: Uint8Array;
  stackHeight: number | null;
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

type Parsed = { type: string; info: Record<string, unknown> } | undefined;

function wrap(program: string, parsed: Parsed): { program: string; parsed: unknown } | undefined {
  return parsed && { program, parsed };
}

function reader(ix: InstructionInput) {
  const view = new DataView(ix.data.buffer, ix.data.byteOffset, ix.data.byteLength);
  const account = (index: number) => {
    const key = ix.accounts[index];
    if (key === undefined) throw new Error('not enough accounts');
    return key;
  };
  return { view, account, data: ix.data };
}

function parseSystemInstruction(ix: InstructionInput): Parsed {
  const { account, data } = reader(ix);
  // bincode: u32 tag, then fields in order; a String is a u64 length and UTF-8 bytes.
  const r = bincode(data);
  const tag = r.u32();
  switch (tag) {
    case 0:
      return { type: 'createAccount', info: { source: account(0), newAccount: account(1), lamports: r.u64(), space: r.u64(), owner: r.key() } };
    case 1:
      return { type: 'assign', info: { account: account(0), owner: r.key() } };
    case 2:
      return { type: 'transfer', info: { source: account(0), destination: account(1), lamports: r.u64() } };
    case 3:
      return {
        type: 'createAccountWithSeed',
        info: { source: account(0), newAccount: account(1), base: r.key(), seed: r.string(), lamports: r.u64(), space: r.u64(), owner: r.key() },
      };
    case 4:
      return { type: 'advanceNonce', info: { nonceAccount: account(0), recentBlockhashesSysvar: account(1), nonceAuthority: account(2) } };
    case 5:
      return {
        type: 'withdrawFromNonce',
        info: { nonceAccount: account(0), destination: account(1), recentBlockhashesSysvar: account(2), rentSysvar: account(3), nonceAuthority: account(4), lamports: r.u64() },
      };
    case 6:
      return { type: 'initializeNonce', info: { nonceAccount: account(0), recentBlockhashesSysvar: account(1), rentSysvar: account(2), nonceAuthority: r.key() } };
    case 7:
      return { type: 'authorizeNonce', info: { nonceAccount: account(0), nonceAuthority: account(1), newAuthorized: r.key() } };
    case 8:
      return { type: 'allocate', info: { account: account(0), space: r.u64() } };
    case 9:
      return { type: 'allocateWithSeed', info: { account: account(0), base: r.key(), seed: r.string(), space: r.u64(), owner: r.key() } };
    case 10:
      return { type: 'assignWithSeed', info: { account: account(0), base: r.key(), seed: r.string(), owner: r.key() } };
    case 11: {
      const lamports = r.u64();
      return {
        type: 'transferWithSeed',
        info: { source: account(0), sourceBase: account(1), destination: account(2), lamports, sourceSeed: r.string(), sourceOwner: r.key() },
      };
    }
    case 12:
      return { type: 'upgradeNonce', info: { nonceAccount: account(0) } };
    default:
      return undefined;
  }
}

/** A cursor over bincode-encoded instruction data; reading past the end throws (the instruction stays undecoded). */
function bincode(data: Uint8Array) {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  const take = (length: number) => {
    if (offset + length > data.length) throw new Error('instruction data too short');
    const start = offset;
    offset += length;
    return start;
  };
  return {
    u32: () => view.getUint32(take(4), true),
    u64: () => Number(view.getBigUint64(take(8), true)),
    key: () => bs58.encode(data.subarray(take(32), offset)),
    string: () => {
      const length = Number(view.getBigUint64(take(8), true));
      return new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(take(length), offset));
    },
  };
}

/** SPL Token's authority argument: one signer, or a multisig followed by its signers. */
function signers(ix: InstructionInput, index: number, single: string, multisig: string): Record<string, unknown> {
  if (ix.accounts.length > index + 1) return { [multisig]: ix.accounts[index], signers: ix.accounts.slice(index + 1) };
  return { [single]: reader(ix).account(index) };
}

const AUTHORITY_TYPES = ['mintTokens', 'freezeAccount', 'accountOwner', 'closeAccount'];

function parseTokenInstruction(ix: InstructionInput): Parsed {
  const { view, account, data } = reader(ix);
  const amount = (offset: number) => view.getBigUint64(offset, true).toString();
  const key = (offset: number) => bs58.encode(data.subarray(offset, offset + 32));
  const tokenAmount = (offset: number): UiTokenAmount => uiTokenAmount(view.getBigUint64(offset, true), data[offset + 8]!);
  const tag = data[0];
  switch (tag) {
    case 0:
    case 20: {
      // InitializeMint(2): decimals u8, mint authority, COption<freeze authority> (1-byte tag here, not 4).
      const info: Record<string, unknown> = { mint: account(0), decimals: data[1], mintAuthority: key(2) };
      if (tag === 0) info.rentSysvar = account(1);
      if (data[34] === 1) info.freezeAuthority = key(35);
      return { type: tag === 0 ? 'initializeMint' : 'initializeMint2', info };
    }
    case 1:
      return { type: 'initializeAccount', info: { account: account(0), mint: account(1), owner: account(2), rentSysvar: account(3) } };
    case 16:
      return { type: 'initializeAccount2', info: { account: account(0), mint: account(1), owner: key(1), rentSysvar: account(2) } };
    case 18:
      return { type: 'initializeAccount3', info: { account: account(0), mint: account(1), owner: key(1) } };
    case 3:
      return { type: 'transfer', info: { source: account(0), destination: account(1), amount: amount(1), ...signers(ix, 2, 'authority', 'multisigAuthority') } };
    case 4:
      return { type: 'approve', info: { source: account(0), delegate: account(1), amount: amount(1), ...signers(ix, 2, 'owner', 'multisigOwner') } };
    case 5:
      return { type: 'revoke', info: { source: account(0), ...signers(ix, 1, 'owner', 'multisigOwner') } };
    case 6: {
      const authorityType = AUTHORITY_TYPES[data[1]!];
      if (!authorityType) return undefined;
      const owned = authorityType === 'mintTokens' || authorityType === 'freezeAccount' ? 'mint' : 'account';
      return {
        type: 'setAuthority',
        info: { [owned]: account(0), authorityType, newAuthority: data[2] === 1 ? key(3) : null, ...signers(ix, 1, 'authority', 'multisigAuthority') },
      };
    }
    case 7:
      return { type: 'mintTo', info: { mint: account(0), account: account(1), amount: amount(1), ...signers(ix, 2, 'mintAuthority', 'multisigMintAuthority') } };
    case 8:
      return { type: 'burn', info: { account: account(0), mint: account(1), amount: amount(1), ...signers(ix, 2, 'authority', 'multisigAuthority') } };
    case 9:
      return { type: 'closeAccount', info: { account: account(0), destination: account(1), ...signers(ix, 2, 'owner', 'multisigOwner') } };
    case 10:
    case 11:
      return {
        type: tag === 10 ? 'freezeAccount' : 'thawAccount',
        info: { account: account(0), mint: account(1), ...signers(ix, 2, 'freezeAuthority', 'multisigFreezeAuthority') },
      };
    case 12:
      return {
        type: 'transferChecked',
        info: { source: account(0), mint: account(1), destination: account(2), tokenAmount: tokenAmount(1), ...signers(ix, 3, 'authority', 'multisigAuthority') },
      };
    case 13:
      return {
        type: 'approveChecked',
        info: { source: account(0), mint: account(1), delegate: account(2), tokenAmount: tokenAmount(1), ...signers(ix, 3, 'owner', 'multisigOwner') },
      };
    case 14:
      return {
        type: 'mintToChecked',
        info: { mint: account(0), account: account(1), tokenAmount: tokenAmount(1), ...signers(ix, 2, 'mintAuthority', 'multisigMintAuthority') },
      };
    case 15:
      return {
        type: 'burnChecked',
        info: { account: account(0), mint: account(1), tokenAmount: tokenAmount(1), ...signers(ix, 2, 'authority', 'multisigAuthority') },
      };
    case 2:
      return { type: 'initializeMultisig', info: { multisig: account(0), rentSysvar: account(1), signers: ix.accounts.slice(2), m: data[1] } };
    case 19:
      return { type: 'initializeMultisig2', info: { multisig: account(0), signers: ix.accounts.slice(1), m: data[1] } };
    case 17:
      return { type: 'syncNative', info: { account: account(0) } };
    case 23:
      return { type: 'amountToUiAmount', info: { mint: account(0), amount: amount(1) } };
    case 24:
      return { type: 'uiAmountToAmount', info: { mint: account(0), uiAmount: new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(1)) } };
    case 21:
      return { type: 'getAccountDataSize', info: { mint: account(0) } };
    case 22:
      return { type: 'initializeImmutableOwner', info: { account: account(0) } };
    default:
      return undefined;
  }
}

function parseAssociatedTokenInstruction(ix: InstructionInput): Parsed {
  const { account, data } = reader(ix);
  const tag = data.length === 0 ? 0 : data[0];
  if (tag === 0 || tag === 1) {
    return {
      type: tag === 0 ? 'create' : 'createIdempotent',
      info: { source: account(0), account: account(1), wallet: account(2), mint: account(3), systemProgram: account(4), tokenProgram: account(5) },
    };
  }
  if (tag === 2) {
    return {
      type: 'recoverNested',
      info: {
        nestedSource: account(0),
        nestedMint: account(1),
        destination: account(2),
        nestedOwner: account(3),
        ownerMint: account(4),
        wallet: account(5),
        tokenProgram: account(6),
      },
    };
  }
  return undefined;
}
