// Every command iocli has, in one place, indexed by its first word. Only the invoked noun's spec files are loaded,
// so `iocli --help` and `iocli wallet show` never pay for the other thirty commands.
// To add a command: write commands/<noun>/<verb>.ts exporting a CommandSpec and list it in that noun's loader below
// (or add a new noun here with its one-line summary).
import type { CommandSpec } from './spec.js';

export interface NounEntry {
  /** One line for `iocli --help`. */
  summary: string;
  load(): Promise<CommandSpec[]>;
}

export const NOUNS: Record<string, NounEntry> = {
  gpus: {
    summary: "Show this machine's GPUs and host inventory",
    load: async () => [(await import('./gpus.js')).gpus],
  },
  wallet: {
    summary: 'Create, import and inspect your Solana wallet',
    load: async () => {
      const [n, i, s, b, a] = await Promise.all([
        import('./wallet/new.js'),
        import('./wallet/import.js'),
        import('./wallet/show.js'),
        import('./wallet/balance.js'),
        import('./wallet/airdrop.js'),
      ]);
      return [n.walletNew, i.walletImport, s.walletShow, b.walletBalance, a.walletAirdrop];
    },
  },
  config: {
    summary: 'Read and change settings (per profile: local, devnet, mainnet-beta)',
    load: async () => {
      const [g, s, l, r] = await Promise.all([
        import('./config/get.js'),
        import('./config/set.js'),
        import('./config/list.js'),
        import('./config/reset.js'),
      ]);
      return [g.configGet, s.configSet, l.configList, r.configReset];
    },
  },
};
