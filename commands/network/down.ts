// `iocli network down`: stop a detached (or foreground) local network through its pid file.
import type { CommandSpec } from '../spec.js';
import { networkDataDir } from '../../src/network/local-network.js';
import { dataDirOption } from './up.js';

export const networkDown: CommandSpec<{ dataDir: string }> = {
  path: 'network down',
  summary: 'Stop the local network started with `iocli network up`',
  description: 'Sends SIGTERM to the process named in DIR/network.json and waits until it has shut down cleanly.',
  options: [dataDirOption],
  examples: ['iocli network down', 'iocli network down --data-dir /tmp/net --json'],
  parse: ({ flags, env }) => ({ dataDir: networkDataDir(flags.dataDir as string | undefined, env) }),
  async run({ dataDir }, ctx) {
    const { stopLocalNetwork } = await import('../../src/network/local-network.js');
    const result = await stopLocalNetwork(dataDir);
    return {
      data: { ...result, dataDir },
      human: (r) => r.line(result.stopped ? `Stopped the local network (pid ${result.pid}).` : `No local network is running from ${dataDir}.`),
    };
  },
};
