// Every command iocli has, in one place. To add one: write commands/<noun>/<verb>.ts exporting a CommandSpec, list it here.
import type { CommandSpec } from './spec.js';
import { configGet } from './config/get.js';
import { configList } from './config/list.js';
import { configReset } from './config/reset.js';
import { configSet } from './config/set.js';
import { walletBalance } from './wallet/balance.js';
import { walletAirdrop } from './wallet/airdrop.js';
import { walletImport } from './wallet/import.js';
import { walletNew } from './wallet/new.js';
import { walletShow } from './wallet/show.js';

/** Descriptions of command groups (nouns) that have no action of their own. */
export const GROUPS: Record<string, string> = {
  wallet: 'Create, import and inspect your Solana wallet',
  config: 'Read and change settings (per profile: local, devnet, mainnet-beta)',
  lease: 'Inspect and manage one lease',
  rewards: 'Provider earnings and payouts',
  coordinator: 'Run the coordination API service',
  network: 'Run a complete local network (chain + coordinator) on this machine',
};

export const COMMANDS: readonly CommandSpec[] = [
  walletNew,
  walletImport,
  walletShow,
  walletBalance,
  walletAirdrop,
  configGet,
  configSet,
  configList,
  configReset,
];
