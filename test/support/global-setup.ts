// Runs once around the whole test run: lease networks that this run's agents left behind (an agent killed with kill -9
// on purpose, a spawned provider stopped mid-lease) are removed at the end. Docker's default address pools hold only
// about 30 networks, so leftovers from a few runs on one machine would make every later lease fail to get a network.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function docker(args: string[]): Promise<string> {
  return (await run('docker', args, { timeout: 60_000 })).stdout;
}

export default function setup(): () => Promise<void> {
  const startedAt = Date.now();
  return async () => {
    const ids = await docker(['network', 'ls', '-q', '--filter', 'label=iocli.managed=true']).catch(() => '');
    for (const id of ids.split('\n').filter(Boolean)) {
      try {
        const [created, containers] = (await docker(['network', 'inspect', '-f', '{{.Created.Unix}}|{{len .Containers}}', id])).trim().split('|');
        // Only this run's networks, and only unused ones: anything older or attached belongs to someone else.
        if (Number(created) * 1000 >= startedAt - 1_000 && containers === '0') await docker(['network', 'rm', id]);
      } catch {
        // Gone already, or in use after all: leave it.
      }
    }
  };
}
