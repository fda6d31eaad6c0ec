// `iocli provide install-service`: writes a systemd unit running `iocli provide` with the same flags at boot.
import type { CommandSpec } from '../spec.js';
import { parseProvideFlags, type ProvideFlags } from './start.js';

export interface InstallServiceFlags extends Omit<ProvideFlags, 'preflight'> {
  user?: boolean;
  output?: string;
}

const FORWARDED = ['gpus', 'price', 'region', 'simulateGpus', 'interval', 'stopTimeout', 'machineId', 'dataDir'] as const;
const FLAG_NAMES: Record<(typeof FORWARDED)[number], string> = {
  gpus: '--gpus',
  price: '--price',
  region: '--region',
  simulateGpus: '--simulate-gpus',
  interval: '--interval',
  stopTimeout: '--stop-timeout',
  machineId: '--machine-id',
  dataDir: '--data-dir',
};

export const provideInstallService: CommandSpec<InstallServiceFlags> = {
  path: 'provide install-service',
  summary: 'Write a systemd unit that runs the provider agent at boot (Restart=always)',
  description:
    'Writes iocli-provider.service with ExecStart = this node binary + this iocli + `provide` with the flags given here and --yes. ' +
    'System unit (/etc/systemd/system, needs root) by default; --user for a user unit; --output to write it anywhere.',
  options: [
    { flags: '--user', description: 'a user unit (~/.config/systemd/user) run by systemctl --user' },
    { flags: '--output <path>', description: 'write the unit here instead' },
    { flags: '--gpus <all|0,1>', description: 'passed to `iocli provide`' },
    { flags: '--price <tokens>', description: 'passed to `iocli provide`' },
    { flags: '--region <name>', description: 'passed to `iocli provide`' },
    { flags: '--simulate-gpus <N[:MODEL]>', description: 'passed to `iocli provide`' },
    { flags: '--interval <seconds>', description: 'passed to `iocli provide`' },
    { flags: '--stop-timeout <seconds>', description: 'passed to `iocli provide`' },
    { flags: '--machine-id <id>', description: 'passed to `iocli provide`' },
    { flags: '--data-dir <path>', description: 'passed to `iocli provide`' },
    { flags: '--stop-workloads', description: 'passed to `iocli provide`' },
    { flags: '--no-logs', description: 'passed to `iocli provide`' },
  ],
  examples: [
    'sudo iocli provide install-service --gpus all --price 2.10 --region eu-west',
    'iocli provide install-service --user',
    'iocli provide install-service --output ./iocli-provider.service --json',
  ],
  parse({ flags, env }) {
    // Fail now on values the service would reject at every restart; the unit gets them as they were given.
    parseProvideFlags(flags as ProvideFlags, env);
    return flags as InstallServiceFlags;
  },
  async run(flags, ctx) {
    const [{ buildServiceUnit, defaultServicePath, systemctlCommands, writeServiceUnit }, { existsSync }, { fileURLToPath }, { resolve }, { userInfo }, { UserError }, { expandHome }] =
      await Promise.all([
        import('../../src/provider/service-unit.js'),
        import('node:fs'),
        import('node:url'),
        import('node:path'),
        import('node:os'),
        import('../../src/errors.js'),
        import('../../src/wallet/keypair.js'),
      ]);

    // From dist/commands/provide/ or commands/provide/ (tests run the sources).
    const binPath = [new URL('../../../bin/iocli.js', import.meta.url), new URL('../../bin/iocli.js', import.meta.url)].map((u) => fileURLToPath(u)).find((p) => existsSync(p));
    if (!binPath) throw new UserError('Cannot find bin/iocli.js next to this installation.', { code: 'BIN_NOT_FOUND' });

    const args = ['provide'];
    for (const key of FORWARDED) {
      const value = flags[key];
      if (value === undefined) continue;
      args.push(FLAG_NAMES[key], key === 'dataDir' ? resolve(expandHome(value)) : value);
    }
    if (flags.stopWorkloads) args.push('--stop-workloads');
    if (flags.logs === false) args.push('--no-logs');
    const globals = ctx.globals;
    if (globals.profile) args.push('--profile', globals.profile);
    if (globals.apiUrl) args.push('--api-url', globals.apiUrl);
    // The service runs without a terminal: the wallet path must be absolute, and prompts impossible.
    args.push('--keypair', resolve(await ctx.keypairPath()), '--yes');

    const env: Record<string, string> = {};
    for (const name of ['IOCLI_CONFIG_DIR', 'IOCLI_PROVIDER_DIR', 'IOCLI_PROFILE', 'IOCLI_API_URL', 'IOCLI_CHALLENGE_IMAGE', 'DOCKER_HOST', 'HOME']) {
      const value = ctx.env[name];
      if (value) env[name] = value;
    }
    const user = flags.user === true;
    const unit = buildServiceUnit({ nodePath: process.execPath, binPath, args, env, user, runAs: user ? undefined : userInfo().username });
    const path = resolve(flags.output ? expandHome(flags.output) : defaultServicePath(user, ctx.env));
    try {
      await writeServiceUnit(path, unit);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UserError(`Cannot write ${path}: ${(error as Error).message}`, {
        code: 'SERVICE_WRITE_FAILED',
        hint: code === 'EACCES' || code === 'EPERM' ? 'Run it with sudo, use --user for a user service, or --output PATH.' : 'Choose another place with --output PATH.',
      });
    }
    const commands = systemctlCommands(user, path);
    return {
      data: { path, user, execStart: [process.execPath, binPath, ...args], commands, unit },
      human: (r: import('../output.js').HumanRenderer) => {
        r.success(`Wrote ${path}`);
        r.line('Enable and start it with:');
        for (const command of commands) r.line(`  ${command}`);
      },
    };
  },
};
