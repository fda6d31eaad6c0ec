// `iocli network status`: is the local network's chain and coordinator answering?
import type { CommandSpec } from '../spec.js';
import { networkDataDir } from '../../src/network/local-network.js';
import { dataDirOption } from './up.js';

export const networkStatus: CommandSpec<{ dataDir: string }> = {
  path: 'network status',
  summary: 'Show whether the local network (chain and coordinator) is up',
  description: 'Reads DIR/network.json and asks the chain (getHealth) and the coordinator (/healthz).',
  options: [dataDirOption],
  examples: ['iocli network status', 'iocli network status --json'],
  parse: ({ flags, env }) => ({ dataDir: networkDataDir(flags.dataDir as string | undefined, env) }),
  async run({ dataDir }, ctx) {
    const { networkStatus: readStatus } = await import('../../src/network/local-network.js');
    const status = await readStatus(dataDir);
    return {
      data: status,
      human: (r) =>
        r.keyValues({
          Status: status.running ? 'running' : 'not running',
          Coordinator: `${status.coordinator}${status.apiUrl ? ` (${status.apiUrl})` : ''}`,
          Chain: `${status.chain}${status.rpcUrl ? ` (${status.rpcUrl})` : ''}`,
          PID: status.pid === null ? undefined : String(status.pid),
          Mint: status.mint ?? undefined,
          'Data dir': dataDir,
        }),
    };
  },
};
