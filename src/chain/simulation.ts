// simulateTransaction's answer, built from litesvm's simulation result: the requested accounts as the transaction
// would leave them, logs, units, return data and (on request) inner instructions, in the RPC's shapes.
import bs58 from 'bs58';
import { FailedTransactionMetadata } from 'litesvm/dist/internal.js';
import type { SimulatedTransactionInfo } from 'litesvm/dist/internal.js';
import type { InnerInstructionRecord } from './history.js';
import { toRpcTransactionError } from './svm-errors.js';
import type { RpcTransactionError } from './svm-errors.js';
import { innerInstructionsOf, viewOf, type AccountView } from './svm-views.js';

export interface SimulationValue {
  err: RpcTransactionError | null;
  logs: string[];
  /** The requested accounts as the transaction leaves them (null entries for accounts that would not exist). */
  accounts: (AccountView | null)[] | null;
  unitsConsumed: number;
  returnData: { programId: string; data: [string, 'base64'] } | null;
  innerInstructions: InnerInstructionRecord[] | null;
  replacementBlockhash: { blockhash: string; lastValidBlockHeight: number } | null;
  /** Account keys of the simulated message, so callers can resolve inner-instruction indexes. */
  accountKeys: string[];
}

export interface SimulateOptions {
  sigVerify?: boolean;
  replaceRecentBlockhash?: boolean;
  /** Addresses whose post-simulation state to return. */
  accounts?: string[];
  innerInstructions?: boolean;
}

/** The answer for a transaction whose blockhash is not valid (nothing ran). */
export function blockhashNotFound(accountKeys: string[]): SimulationValue {
  return {
    err: 'BlockhashNotFound',
    logs: [],
    accounts: null,
    unitsConsumed: 0,
    returnData: null,
    innerInstructions: null,
    replacementBlockhash: null,
    accountKeys,
  };
}

export interface SimulationRequest {
  /** Canonical addresses whose state to return, when asked. */
  requested: string[] | undefined;
  innerInstructions: boolean | undefined;
  replacementBlockhash: SimulationValue['replacementBlockhash'];
  accountKeys: string[];
  /** The ledger's current state of an account the transaction does not touch. */
  currentAccount: (address: string) => AccountView | null;
}

export function simulationValueOf(result: SimulatedTransactionInfo | FailedTransactionMetadata, request: SimulationRequest): SimulationValue {
  const failure = result instanceof FailedTransactionMetadata ? result : undefined;
  const failed = failure !== undefined;
  const postAccounts = result instanceof FailedTransactionMetadata ? [] : result.postAccounts();
  const meta = result.meta();
  let accounts: SimulationValue['accounts'] = null;
  if (request.requested) {
    // A failed simulation changes nothing (but the fee), so validators return null entries; a successful one
    // returns the accounts as the transaction leaves them, falling back to the current state for untouched ones.
    const post = new Map(postAccounts.map((entry) => [bs58.encode(entry.address), entry.account()] as const));
    accounts = failed
      ? request.requested.map(() => null)
      : request.requested.map((address) => {
          const account = post.get(address);
          return account ? viewOf(account) : request.currentAccount(address);
        });
  }
  const returned = meta.returnData();
  const returnProgram = bs58.encode(returned.programId());
  return {
    err: failure ? toRpcTransactionError(failure.err()) : null,
    logs: meta.logs(),
    accounts,
    unitsConsumed: Number(meta.computeUnitsConsumed()),
    returnData:
      returned.data().length > 0 || returnProgram !== '11111111111111111111111111111111'
        ? { programId: returnProgram, data: [Buffer.from(returned.data()).toString('base64'), 'base64'] }
        : null,
    innerInstructions: request.innerInstructions ? innerInstructionsOf(meta) : null,
    replacementBlockhash: request.replacementBlockhash,
    accountKeys: request.accountKeys,
  };
}
