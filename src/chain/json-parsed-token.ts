// jsonParsed for the SPL Token family: token, mint and multisig accounts of SPL Token and Token-2022 (base layouts;
// agave's account-decoder parse_token.rs), and the instructions of SPL Token and of the Associated Token Account
// program (transaction-status parse_token.rs / parse_associated_token.rs).
import bs58 from 'bs58';
import { reader, type DecimalsOf, type InstructionInput, type Parsed } from './json-parsed-shapes.js';
import { uiTokenAmount } from './token-accounts.js';
import type { UiTokenAmount } from './token-accounts.js';

const TOKEN_ACCOUNT_LEN = 165;
const MINT_LEN = 82;
const MULTISIG_LEN = 355;

export function parseTokenProgramAccount(data: Uint8Array, decimalsOf: DecimalsOf, is2022: boolean): Parsed {
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

/** SPL Token's authority argument: one signer, or a multisig followed by its signers. */
function signers(ix: InstructionInput, index: number, single: string, multisig: string): Record<string, unknown> {
  if (ix.accounts.length > index + 1) return { [multisig]: ix.accounts[index], signers: ix.accounts.slice(index + 1) };
  return { [single]: reader(ix).account(index) };
}

const AUTHORITY_TYPES = ['mintTokens', 'freezeAccount', 'accountOwner', 'closeAccount'];

export function parseTokenInstruction(ix: InstructionInput): Parsed {
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

export function parseAssociatedTokenInstruction(ix: InstructionInput): Parsed {
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
