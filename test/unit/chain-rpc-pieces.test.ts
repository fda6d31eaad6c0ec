// Pure parts of the local chain's RPC fidelity: fees, commitment levels, jsonParsed decoding, CORS origins.
import { ComputeBudgetProgram, Keypair, PublicKey, SystemProgram } from '@solana/web3.js';
import type { TransactionInstruction } from '@solana/web3.js';
import {
  createApproveInstruction,
  createBurnCheckedInstruction,
  createCloseAccountInstruction,
  createInitializeMint2Instruction,
  createInitializeMultisigInstruction,
  createMintToInstruction,
  createSetAuthorityInstruction,
  createTransferInstruction,
  AuthorityType,
} from '@solana/spl-token';
import { describe, expect, it } from 'vitest';
import { reached, slotAt, statusOf } from '../../src/chain/commitment.js';
import { transactionFee } from '../../src/chain/fees.js';
import { parseAccountData, parseInstruction } from '../../src/chain/json-parsed.js';
import { isAllowedOrigin } from '../../src/chain/cors.js';

const MEMO = 'MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr';
const toFee = (ix: TransactionInstruction) => ({ programId: ix.programId.toBase58(), data: ix.data });
const transfer = SystemProgram.transfer({ fromPubkey: Keypair.generate().publicKey, toPubkey: Keypair.generate().publicKey, lamports: 1 });
const memo = { programId: MEMO, data: Buffer.from('hi') };

describe('transactionFee', () => {
  // The expected figures were measured as balance changes on litesvm 1.4.1 (see fees.ts).
  it.each([
    ['a plain transfer', 1, [toFee(transfer)], 5000],
    ['two signatures', 2, [toFee(transfer)], 10_000],
    ['price 1e6 µlamports, default limit of 2 builtins', 1, [toFee(ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1_000_000 })), toFee(transfer)], 11_000],
    ['price 1e6, limit 1000', 1, [toFee(ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1_000_000 })), toFee(ComputeBudgetProgram.setComputeUnitLimit({ units: 1000 })), toFee(transfer)], 6000],
    ['price 1e6 with a memo (an SBF program: 200k units)', 1, [toFee(ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1_000_000 })), memo], 208_000],
    ['rounds the priority fee up', 1, [toFee(ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 3 })), toFee(ComputeBudgetProgram.setComputeUnitLimit({ units: 333_334 })), toFee(transfer)], 5002],
    ['caps the limit at 1.4M units', 1, [toFee(ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1_000_000 })), toFee(ComputeBudgetProgram.setComputeUnitLimit({ units: 5_000_000 }))], 1_405_000],
  ])('%s', (_name, signatures, instructions, fee) => {
    expect(transactionFee(signatures, instructions).fee).toBe(fee);
  });
});

describe('commitment', () => {
  it.each([
    ['instant', 100, 100, 'finalized', null],
    ['realistic', 100, 100, 'processed', 0],
    ['realistic', 100, 99, 'confirmed', 1],
    ['realistic', 100, 69, 'confirmed', 31],
    ['realistic', 100, 68, 'finalized', null],
  ] as const)('%s: slot %i seen from %i is %s', (mode, current, slot, status, confirmations) => {
    expect(statusOf(mode, current, slot)).toEqual({ confirmationStatus: status, confirmations });
  });

  it('answers reads at the slot each commitment has reached', () => {
    expect([slotAt('realistic', 100, 'processed'), slotAt('realistic', 100, 'confirmed'), slotAt('realistic', 100, 'finalized')]).toEqual([100, 99, 68]);
    expect(slotAt('instant', 100, 'finalized')).toBe(100);
    expect(reached('realistic', 100, 69, 'finalized')).toBe(false);
    expect(reached('realistic', 100, 68, 'finalized')).toBe(true);
  });
});

describe('jsonParsed instructions', () => {
  const [a, b, c, d] = Array.from({ length: 4 }, () => Keypair.generate().publicKey);
  const asInput = (ix: TransactionInstruction) => ({ programId: ix.programId.toBase58(), accounts: ix.keys.map((key) => key.pubkey.toBase58()), data: ix.data, stackHeight: null });

  it.each([
    ['system transfer', SystemProgram.transfer({ fromPubkey: a!, toPubkey: b!, lamports: 42 }), 'system', { type: 'transfer', info: { source: a!.toBase58(), destination: b!.toBase58(), lamports: 42 } }],
    [
      'system createAccount',
      SystemProgram.createAccount({ fromPubkey: a!, newAccountPubkey: b!, lamports: 7, space: 165, programId: c! }),
      'system',
      { type: 'createAccount', info: { source: a!.toBase58(), newAccount: b!.toBase58(), lamports: 7, space: 165, owner: c!.toBase58() } },
    ],
    [
      'system createAccountWithSeed',
      SystemProgram.createAccountWithSeed({ fromPubkey: a!, newAccountPubkey: b!, basePubkey: c!, seed: 'lease-7', lamports: 9, space: 3, programId: d! }),
      'system',
      { type: 'createAccountWithSeed', info: { source: a!.toBase58(), newAccount: b!.toBase58(), base: c!.toBase58(), seed: 'lease-7', lamports: 9, space: 3, owner: d!.toBase58() } },
    ],
    [
      'system transferWithSeed',
      SystemProgram.transfer({ fromPubkey: a!, basePubkey: b!, toPubkey: c!, lamports: 11, seed: 's', programId: d! }),
      'system',
      { type: 'transferWithSeed', info: { source: a!.toBase58(), sourceBase: b!.toBase58(), destination: c!.toBase58(), lamports: 11, sourceSeed: 's', sourceOwner: d!.toBase58() } },
    ],
    [
      'system advanceNonce',
      SystemProgram.nonceAdvance({ noncePubkey: a!, authorizedPubkey: b! }),
      'system',
      { type: 'advanceNonce', info: { nonceAccount: a!.toBase58(), recentBlockhashesSysvar: 'SysvarRecentB1ockHashes11111111111111111111', nonceAuthority: b!.toBase58() } },
    ],
    [
      'initializeMultisig',
      createInitializeMultisigInstruction(a!, [b!, c!], 2),
      'spl-token',
      { type: 'initializeMultisig', info: { multisig: a!.toBase58(), rentSysvar: 'SysvarRent111111111111111111111111111111111', signers: [b!.toBase58(), c!.toBase58()], m: 2 } },
    ],
    ['token transfer', createTransferInstruction(a!, b!, c!, 5n), 'spl-token', { type: 'transfer', info: { source: a!.toBase58(), destination: b!.toBase58(), authority: c!.toBase58(), amount: '5' } }],
    [
      'token transfer by a multisig',
      createTransferInstruction(a!, b!, c!, 5n, [Keypair.generate(), Keypair.generate()]),
      'spl-token',
      { type: 'transfer', info: { source: a!.toBase58(), destination: b!.toBase58(), multisigAuthority: c!.toBase58(), signers: expect.any(Array), amount: '5' } },
    ],
    ['approve', createApproveInstruction(a!, b!, c!, 9n), 'spl-token', { type: 'approve', info: { source: a!.toBase58(), delegate: b!.toBase58(), owner: c!.toBase58(), amount: '9' } }],
    ['mintTo', createMintToInstruction(a!, b!, c!, 3n), 'spl-token', { type: 'mintTo', info: { mint: a!.toBase58(), account: b!.toBase58(), mintAuthority: c!.toBase58(), amount: '3' } }],
    [
      'burnChecked',
      createBurnCheckedInstruction(a!, b!, c!, 1_500_000n, 6),
      'spl-token',
      { type: 'burnChecked', info: { account: a!.toBase58(), mint: b!.toBase58(), authority: c!.toBase58(), tokenAmount: { amount: '1500000', decimals: 6, uiAmount: 1.5, uiAmountString: '1.5' } } },
    ],
    ['closeAccount', createCloseAccountInstruction(a!, b!, c!), 'spl-token', { type: 'closeAccount', info: { account: a!.toBase58(), destination: b!.toBase58(), owner: c!.toBase58() } }],
    [
      'setAuthority',
      createSetAuthorityInstruction(a!, b!, AuthorityType.MintTokens, null),
      'spl-token',
      { type: 'setAuthority', info: { mint: a!.toBase58(), authorityType: 'mintTokens', newAuthority: null, authority: b!.toBase58() } },
    ],
    [
      'initializeMint2 with a freeze authority',
      createInitializeMint2Instruction(a!, 6, b!, d!),
      'spl-token',
      { type: 'initializeMint2', info: { mint: a!.toBase58(), decimals: 6, mintAuthority: b!.toBase58(), freezeAuthority: d!.toBase58() } },
    ],
  ])('%s', (_name, ix, program, parsed) => {
    expect(parseInstruction(asInput(ix))).toEqual({ program, programId: ix.programId.toBase58(), parsed, stackHeight: null });
  });

  it('leaves unknown programs and malformed data undecoded', () => {
    const unknown = { programId: d!.toBase58(), accounts: [a!.toBase58()], data: new Uint8Array([1, 2, 3]), stackHeight: 2 };
    expect(parseInstruction(unknown)).toEqual({ programId: d!.toBase58(), accounts: [a!.toBase58()], data: 'Ldp', stackHeight: 2 });
    const truncated = { ...unknown, programId: '11111111111111111111111111111111', data: new Uint8Array([2, 0, 0, 0]) };
    expect(parseInstruction(truncated)).toMatchObject({ programId: '11111111111111111111111111111111', data: expect.any(String) });
    expect(parseInstruction({ programId: MEMO, accounts: [], data: Buffer.from('hello'), stackHeight: null })).toEqual({ program: 'spl-memo', programId: MEMO, parsed: 'hello', stackHeight: null });
  });
});

describe('jsonParsed accounts', () => {
  it('parses a token account with a delegate and a mint, and refuses unknown layouts', () => {
    const mint = Keypair.generate().publicKey;
    const owner = Keypair.generate().publicKey;
    const delegate = Keypair.generate().publicKey;
    const data = new Uint8Array(165);
    const view = new DataView(data.buffer);
    data.set(mint.toBytes(), 0);
    data.set(owner.toBytes(), 32);
    view.setBigUint64(64, 2_500_000n, true);
    view.setUint32(72, 1, true);
    data.set(delegate.toBytes(), 76);
    data[108] = 2; // frozen
    view.setBigUint64(121, 1_000_000n, true);
    const parsed = parseAccountData('TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA', data, () => 6);
    expect(parsed).toEqual({
      program: 'spl-token',
      space: 165,
      parsed: {
        type: 'account',
        info: {
          isNative: false,
          mint: mint.toBase58(),
          owner: owner.toBase58(),
          state: 'frozen',
          tokenAmount: { amount: '2500000', decimals: 6, uiAmount: 2.5, uiAmountString: '2.5' },
          delegate: delegate.toBase58(),
          delegatedAmount: { amount: '1000000', decimals: 6, uiAmount: 1, uiAmountString: '1' },
        },
      },
    });
    expect(parseAccountData('11111111111111111111111111111111', new Uint8Array(), () => 6)).toBeUndefined();
    expect(parseAccountData(new PublicKey(MEMO).toBase58(), data, () => 6)).toBeUndefined();
  });
});

describe('CORS origins', () => {
  it.each([
    ['http://localhost:3000', [], true],
    ['https://127.0.0.1', [], true],
    ['http://[::1]:8080', [], true],
    ['https://explorer.solana.com', [], false],
    ['https://explorer.solana.com', ['https://explorer.solana.com'], true],
    ['http://localhost.evil.example', [], false],
    ['null', [], false],
    ['https://anything.example', '*', true],
  ] as const)('%s with %j → %s', (origin, extra, allowed) => {
    expect(isAllowedOrigin(origin, extra as string[] | '*')).toBe(allowed);
  });
});
