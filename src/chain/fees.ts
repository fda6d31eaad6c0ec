// What a transaction pays: 5000 lamports per signature plus its priority fee, computed the way the runtime charges
// it, so that meta.fee, getFeeForMessage and the payer's balance change agree.
//
// Priority fee = ceil(compute-unit price (micro-lamports) × compute-unit limit / 1e6). Without SetComputeUnitLimit
// the limit is 3,000 units per builtin-program instruction (ComputeBudget included) and 200,000 per other
// instruction, at most 1,400,000: measured against litesvm 1.4.1 (transfer + price → 2 × 3,000 units; memo + price
// → 203,000 units), which matches agave's compute-budget defaults.

export const LAMPORTS_PER_SIGNATURE = 5000;
export const COMPUTE_BUDGET_PROGRAM = 'ComputeBudget111111111111111111111111111111';
const MAX_COMPUTE_UNIT_LIMIT = 1_400_000;
const DEFAULT_INSTRUCTION_UNITS = 200_000;
const BUILTIN_INSTRUCTION_UNITS = 3_000;
const MICRO_LAMPORTS_PER_LAMPORT = 1_000_000n;

// Programs the runtime runs natively (not as SBF programs): their instructions reserve 3,000 units by default.
const BUILTIN_PROGRAMS = new Set([
  '11111111111111111111111111111111',
  COMPUTE_BUDGET_PROGRAM,
  'Vote111111111111111111111111111111111111111',
  'BPFLoader1111111111111111111111111111111111',
  'BPFLoader2111111111111111111111111111111111',
  'BPFLoaderUpgradeab1e11111111111111111111111',
  'LoaderV411111111111111111111111111111111111',
]);

export interface FeeInstruction {
  programId: string;
  data: Uint8Array;
}

export interface TransactionFee {
  /** Lamports charged to the fee payer. */
  fee: number;
  priorityFee: number;
  /** Micro-lamports per compute unit (SetComputeUnitPrice), 0 when not set. */
  computeUnitPrice: number;
  computeUnitLimit: number;
}

/** The fee a transaction with `signatures` signatures and these instructions is charged. Pure. */
export function transactionFee(signatures: number, instructions: FeeInstruction[]): TransactionFee {
  let price = 0n;
  let limit: number | undefined;
  let defaultLimit = 0;
  for (const ix of instructions) {
    if (ix.programId === COMPUTE_BUDGET_PROGRAM) {
      const view = new DataView(ix.data.buffer, ix.data.byteOffset, ix.data.byteLength);
      // Instruction tags: 2 = SetComputeUnitLimit(u32), 3 = SetComputeUnitPrice(u64 micro-lamports).
      if (ix.data[0] === 2 && ix.data.length === 5) limit = view.getUint32(1, true);
      if (ix.data[0] === 3 && ix.data.length === 9) price = view.getBigUint64(1, true);
    }
    defaultLimit += BUILTIN_PROGRAMS.has(ix.programId) ? BUILTIN_INSTRUCTION_UNITS : DEFAULT_INSTRUCTION_UNITS;
  }
  const computeUnitLimit = Math.min(limit ?? defaultLimit, MAX_COMPUTE_UNIT_LIMIT);
  const micro = price * BigInt(computeUnitLimit);
  const priorityFee = Number((micro + MICRO_LAMPORTS_PER_LAMPORT - 1n) / MICRO_LAMPORTS_PER_LAMPORT);
  return { fee: LAMPORTS_PER_SIGNATURE * signatures + priorityFee, priorityFee, computeUnitPrice: Number(price), computeUnitLimit };
}
