// jsonParsed for the System program: nonce accounts (agave's account-decoder parse_nonce.rs) and System
// instructions (transaction-status parse_system.rs), whose data is bincode.
import bs58 from 'bs58';
import { reader, type InstructionInput, type Parsed } from './json-parsed-shapes.js';

const NONCE_LEN = 80;

/** A System-owned account's data: only nonce accounts have a layout. */
export function parseSystemAccount(data: Uint8Array): Parsed {
  return data.length === NONCE_LEN ? parseNonce(data) : undefined;
}

function parseNonce(data: Uint8Array): Parsed {
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

export function parseSystemInstruction(ix: InstructionInput): Parsed {
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
