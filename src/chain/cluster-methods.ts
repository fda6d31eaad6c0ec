// The cluster half of the JSON-RPC API, answered as one coherent single-validator cluster: one validator (identity
// and vote account derived from the genesis seed) leads and votes on every slot, never skips one (block height =
// slot), pays no inflation (rewards are always empty) and keeps its whole ledger (first available block 0).
// Its stake is notional: the local chain has no stake accounts, the figure only makes commitment arithmetic add up.

import { FAUCET_LAMPORTS } from './chain-state.js';
import { parsePublicKey } from './wire-transaction.js';
import { FINALIZATION_DEPTH, slotAt } from './commitment.js';
import type { TransactionDetails } from './rpc-encoding.js';
import { checkVersion, configOf, encodeTransaction } from './rpc-encoding.js';
import type { RpcContext, RpcHandler } from './rpc-methods.js';
import { API_VERSION } from './rpc-methods.js';
import { invalidParams, RpcError } from './svm-errors.js';

export const SLOTS_PER_EPOCH = 432_000;
const VALIDATOR_STAKE_LAMPORTS = 500_000_000_000_000; // 500k SOL, notional
const MAX_BLOCK_RANGE = 500_000;
const MAX_SLOT_LEADERS = 5000;
const MAX_PERFORMANCE_SAMPLES = 720;
const SLOTS_PER_SAMPLE = 150; // 60 s of 400 ms slots
const LARGEST_ACCOUNTS = 20;

export interface ClusterEndpoints {
  /** host:port of the HTTP RPC and of the WebSocket, known once the servers listen. */
  rpc: string | null;
  pubsub: string | null;
}

export function blockNotAvailable(slot: number): RpcError {
  return new RpcError(-32004, `Block not available for slot ${slot}`);
}

export function createClusterMethods(context: RpcContext, endpoints: ClusterEndpoints): Record<string, RpcHandler> {
  const { chain, wrap } = context;
  const identity = chain.validator.publicKey;
  const votePubkey = chain.voteAccount.publicKey;
  const epochOf = (slot: number) => Math.floor(slot / SLOTS_PER_EPOCH);
  const requireSlot = (value: unknown, name = 'slot'): number => {
    if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalidParams(`Invalid param: ${name} must be a non-negative integer`);
    return value as number;
  };
  /** Blocks at this commitment; `processed` is refused for block reads, as by a validator. */
  const blockSlotFor = (config: ReturnType<typeof configOf>) => {
    if (context.commitmentOf(config) === 'processed') throw invalidParams('Method does not support commitment below `confirmed`');
    return context.slotFor(config);
  };
  const blockRange = (start: number, end: number, config: ReturnType<typeof configOf>): number[] => {
    const last = Math.min(end, blockSlotFor(config));
    if (end - start > MAX_BLOCK_RANGE) throw invalidParams(`Slot range too large; max ${MAX_BLOCK_RANGE}`);
    const out: number[] = [];
    for (let slot = start; slot <= last; slot++) out.push(slot);
    return out;
  };

  return {
    getIdentity: () => ({ identity }),
    getClusterNodes: () => [
      {
        pubkey: identity,
        gossip: null,
        tpu: null,
        tpuQuic: null,
        tpuForwards: null,
        tpuForwardsQuic: null,
        tpuVote: null,
        serveRepair: null,
        tvu: null,
        rpc: endpoints.rpc,
        pubsub: endpoints.pubsub,
        version: API_VERSION,
        featureSet: 0,
        shredVersion: 0,
      },
    ],
    getVoteAccounts: ([rawConfig]) => {
      const config = configOf(rawConfig);
      const slot = context.slotFor(config);
      const finalized = slotAt(chain.commitment, chain.clock.slot, 'finalized');
      const epochStart = epochOf(slot) * SLOTS_PER_EPOCH;
      const account = {
        votePubkey,
        nodePubkey: identity,
        activatedStake: VALIDATOR_STAKE_LAMPORTS,
        epochVoteAccount: true,
        commission: 0,
        lastVote: slot,
        // One credit per rooted slot: credits at the start of this epoch, and now.
        epochCredits: [[epochOf(slot), finalized, Math.min(finalized, epochStart)]],
        rootSlot: finalized,
      };
      const wanted = config?.votePubkey;
      return { current: wanted === undefined || wanted === votePubkey ? [account] : [], delinquent: [] };
    },
    getLeaderSchedule: ([first, second]) => {
      const config = configOf(first) ?? configOf(second);
      const slot = typeof first === 'number' ? first : chain.clock.slot;
      const epoch = epochOf(requireSlot(slot));
      if (epoch > epochOf(chain.clock.slot) + 1) return null;
      if (config?.identity !== undefined && config.identity !== identity) return {};
      return { [identity]: Array.from({ length: SLOTS_PER_EPOCH }, (_, i) => i) };
    },
    getSlotLeader: ([config]) => {
      context.slotFor(configOf(config));
      return identity;
    },
    getSlotLeaders: ([start, limit]) => {
      requireSlot(start, 'start slot');
      if (!Number.isSafeInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_SLOT_LEADERS) {
        throw invalidParams(`Invalid limit; max ${MAX_SLOT_LEADERS}`);
      }
      return Array.from({ length: limit as number }, () => identity);
    },
    getEpochSchedule: () => ({
      slotsPerEpoch: SLOTS_PER_EPOCH,
      leaderScheduleSlotOffset: SLOTS_PER_EPOCH,
      warmup: false,
      firstNormalEpoch: 0,
      firstNormalSlot: 0,
    }),
    getEpochInfo: ([config]) => {
      const slot = context.slotFor(configOf(config));
      return {
        absoluteSlot: slot,
        blockHeight: slot,
        epoch: epochOf(slot),
        slotIndex: slot % SLOTS_PER_EPOCH,
        slotsInEpoch: SLOTS_PER_EPOCH,
        transactionCount: chain.history.size,
      };
    },
    getInflationGovernor: () => ({ initial: 0, terminal: 0, taper: 0, foundation: 0, foundationTerm: 0 }),
    getInflationRate: () => ({ total: 0, validator: 0, foundation: 0, epoch: epochOf(chain.clock.slot) }),
    getInflationReward: ([addresses]) => {
      if (!Array.isArray(addresses)) throw invalidParams('Invalid param: expected an array of addresses');
      addresses.forEach(parsePublicKey);
      return addresses.map(() => null);
    },
    getStakeMinimumDelegation: ([config]) => wrap(1, configOf(config)),
    getSupply: ([rawConfig]) => {
      const config = configOf(rawConfig);
      // Everything the faucet was created with, less the fees burned since: the chain's whole lamport supply.
      const total = FAUCET_LAMPORTS - chain.history.totalFees;
      return wrap({ total, circulating: total, nonCirculating: 0, nonCirculatingAccounts: [] }, config);
    },
    getLargestAccounts: ([rawConfig]) => {
      const config = configOf(rawConfig);
      if (config?.filter === 'nonCirculating') return wrap([], config);
      const addresses = new Set([chain.faucet.publicKey, ...chain.history.addresses()]);
      const balances = [...addresses].map((address) => ({ address, lamports: chain.getBalance(address) }));
      balances.sort((a, b) => (b.lamports > a.lamports ? 1 : b.lamports < a.lamports ? -1 : 0));
      return wrap(
        balances.slice(0, LARGEST_ACCOUNTS).map(({ address, lamports }) => ({ address, lamports })),
        config,
      );
    },
    getHighestSnapshotSlot: () => ({ full: Math.max(0, chain.startSlot - 1), incremental: null }),
    getMaxRetransmitSlot: () => chain.clock.slot,
    getMaxShredInsertSlot: () => chain.clock.slot,
    getFirstAvailableBlock: () => 0,
    minimumLedgerSlot: () => 0,
    getRecentPerformanceSamples: ([limit]) => {
      const count = limit === undefined ? MAX_PERFORMANCE_SAMPLES : (limit as number);
      if (!Number.isSafeInteger(count) || count < 0 || count > MAX_PERFORMANCE_SAMPLES) throw invalidParams(`Invalid limit; max ${MAX_PERFORMANCE_SAMPLES}`);
      const samples: unknown[] = [];
      for (let end = chain.clock.slot; end > 0 && samples.length < count; end -= SLOTS_PER_SAMPLE) {
        let transactions = 0;
        for (let slot = end; slot > end - SLOTS_PER_SAMPLE && slot >= 0; slot--) transactions += chain.history.inSlot(slot).length;
        samples.push({ slot: end, numTransactions: transactions, numSlots: Math.min(SLOTS_PER_SAMPLE, end), samplePeriodSecs: 60, numNonVoteTransactions: transactions });
      }
      return samples;
    },
    getBlockCommitment: ([slot]) => {
      const block = requireSlot(slot);
      const depth = chain.clock.slot - block;
      if (depth < 0 || depth >= FINALIZATION_DEPTH) return { commitment: null, totalStake: VALIDATOR_STAKE_LAMPORTS };
      // commitment[i]: stake that voted on the block with a lockout of i + 1 confirmations.
      const commitment = Array.from({ length: FINALIZATION_DEPTH }, (_, i) => (i === depth ? VALIDATOR_STAKE_LAMPORTS : 0));
      return { commitment, totalStake: VALIDATOR_STAKE_LAMPORTS };
    },
    getBlockProduction: ([rawConfig]) => {
      const config = configOf(rawConfig);
      const current = context.slotFor(config);
      const range = (config?.range ?? {}) as { firstSlot?: number; lastSlot?: number };
      const firstSlot = range.firstSlot ?? epochOf(current) * SLOTS_PER_EPOCH;
      const lastSlot = range.lastSlot ?? current;
      requireSlot(firstSlot, 'firstSlot');
      requireSlot(lastSlot, 'lastSlot');
      if (lastSlot > current) throw invalidParams(`lastSlot, ${lastSlot}, cannot be greater than current slot, ${current}`);
      if (firstSlot > lastSlot) throw invalidParams(`lastSlot, ${lastSlot}, cannot be less than firstSlot, ${firstSlot}`);
      const slots = lastSlot - firstSlot + 1;
      const byIdentity = config?.identity === undefined || config.identity === identity ? { [identity]: [slots, slots] } : {};
      return wrap({ byIdentity, range: { firstSlot, lastSlot } }, config);
    },
    getBlockTime: ([slot]) => {
      const time = chain.blockTime(requireSlot(slot));
      if (time === undefined) throw blockNotAvailable(slot as number);
      return time;
    },
    getBlocks: ([start, end, rawConfig]) => {
      const config = configOf(end) ?? configOf(rawConfig);
      const first = requireSlot(start, 'start slot');
      const last = typeof end === 'number' ? requireSlot(end, 'end slot') : blockSlotFor(config);
      return blockRange(first, last, config);
    },
    getBlocksWithLimit: ([start, limit, rawConfig]) => {
      const first = requireSlot(start, 'start slot');
      if (!Number.isSafeInteger(limit) || (limit as number) < 0 || (limit as number) > MAX_BLOCK_RANGE) throw invalidParams(`Invalid limit; max ${MAX_BLOCK_RANGE}`);
      if (limit === 0) return [];
      return blockRange(first, first + (limit as number) - 1, configOf(rawConfig));
    },
    getBlock: ([slot, rawConfig]) => {
      const config = typeof rawConfig === 'string' ? { encoding: rawConfig } : configOf(rawConfig);
      const block = requireSlot(slot);
      if (block > blockSlotFor(config)) throw blockNotAvailable(block);
      const encoding = (config?.encoding as string | undefined) ?? 'json';
      const details = ((config?.transactionDetails as string | undefined) ?? 'full') as TransactionDetails;
      if (!['full', 'accounts', 'signatures', 'none'].includes(details)) throw invalidParams(`Invalid param: unknown transactionDetails ${details}`);
      const maxSupportedVersion = config?.maxSupportedTransactionVersion as number | undefined;
      const records = chain.history.inSlot(block);
      records.forEach((record) => checkVersion(record, maxSupportedVersion));
      const result: Record<string, unknown> = {
        blockHeight: block,
        blockTime: chain.blockTime(block) ?? null,
        blockhash: chain.clock.blockhashAt(block),
        parentSlot: Math.max(0, block - 1),
        previousBlockhash: chain.clock.blockhashAt(Math.max(0, block - 1)),
      };
      if (details === 'full' || details === 'accounts') result.transactions = records.map((record) => encodeTransaction(record, { encoding, maxSupportedVersion, details }));
      if (details === 'signatures') result.signatures = records.map((record) => record.signature);
      if (config?.rewards !== false) result.rewards = [];
      return result;
    },
  };
}
