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
  demo: {
    summary: 'Run the whole provide → rent → earn loop on a throwaway local network',
    load: async () => [(await import('./demo.js')).demo],
  },
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
  offers: {
    summary: 'List available GPU capacity, cheapest first',
    load: async () => [(await import('./offers.js')).offers],
  },
  rent: {
    summary: 'Rent GPUs and run a container on them (quote → pay → running)',
    load: async () => [(await import('./rent.js')).rent],
  },
  leases: {
    summary: 'List your leases',
    load: async () => [(await import('./leases.js')).leases],
  },
  lease: {
    summary: 'Inspect, manage and reach one lease: show, logs, extend, stop, exec, shell, port-forward, connect, cp, ssh-config',
    load: async () => {
      const [s, l, e, t] = await Promise.all([import('./lease/show.js'), import('./lease/logs.js'), import('./lease/extend.js'), import('./lease/stop.js')]);
      // Lease access through the relay (issue 9).
      const [x, sh, pf, c, cp, sc] = await Promise.all([
        import('./lease/exec.js'),
        import('./lease/shell.js'),
        import('./lease/port-forward.js'),
        import('./lease/connect.js'),
        import('./lease/cp.js'),
        import('./lease/ssh-config.js'),
      ]);
      return [s.leaseShow, l.leaseLogs, e.leaseExtend, t.leaseStop, x.leaseExec, sh.leaseShell, pf.leasePortForward, c.leaseConnect, cp.leaseCp, sc.leaseSshConfig];
    },
  },
  rewards: {
    summary: "Show and claim your nodes' rewards",
    load: async () => {
      const [s, c] = await Promise.all([import('./rewards/show.js'), import('./rewards/claim.js')]);
      return [s.rewardsShow, c.rewardsClaim];
    },
  },
  provide: {
    summary: "Share this machine's GPUs: preflight, register, run the provider agent (status, logs, install-service, why, bond, unbond, kernel-image)",
    load: async () => {
      const [p, s, l, i, w, b, u, k] = await Promise.all([
        import('./provide/start.js'),
        import('./provide/status.js'),
        import('./provide/logs.js'),
        import('./provide/install-service.js'),
        import('./provide/why.js'),
        import('./provide/bond.js'),
        import('./provide/unbond.js'),
        import('./provide/kernel-image.js'),
      ]);
      return [p.provide, s.provideStatus, l.provideLogs, i.provideInstallService, w.provideWhy, b.provideBond, u.provideUnbond, k.provideKernelImage];
    },
  },
  network: {
    summary: 'Run a local network on loopback (chain, token, coordinator, faucet): up, down, status',
    load: async () => {
      const [u, d, s] = await Promise.all([import('./network/up.js'), import('./network/down.js'), import('./network/status.js')]);
      return [u.networkUp, d.networkDown, s.networkStatus];
    },
  },
  coordinator: {
    summary: 'Run the coordination API service (SQLite or PostgreSQL)',
    load: async () => [(await import('./coordinator/start.js')).coordinatorStart],
  },
};
