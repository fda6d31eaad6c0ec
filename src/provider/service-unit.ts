// `iocli provide install-service`: the systemd unit that runs the agent at boot with the same flags.
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface ServiceUnitInput {
  /** Absolute path of the node binary (process.execPath). */
  nodePath: string;
  /** Absolute path of bin/iocli.js. */
  binPath: string;
  /** Arguments after `iocli`, e.g. ['provide', '--gpus', 'all', '--price', '2', '--yes']. */
  args: string[];
  /** Environment the agent needs (config dir, keypair path…); never secrets. */
  env?: Record<string, string>;
  /** A user service (systemctl --user) rather than a system one. */
  user: boolean;
  /** System services: the account to run as. */
  runAs?: string;
  description?: string;
}

/** systemd quoting: double quotes with backslash escapes, and % doubled (specifier syntax). */
export function systemdQuote(arg: string): string {
  const escaped = arg.replace(/%/g, '%%');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function buildServiceUnit(input: ServiceUnitInput): string {
  const exec = [input.nodePath, input.binPath, ...input.args].map(systemdQuote).join(' ');
  const lines = [
    '[Unit]',
    `Description=${input.description ?? 'iocli GPU provider agent'}`,
    'Documentation=https://github.com/iocli/iocli',
    'Wants=network-online.target',
    // User units cannot order against system units' readiness, but docker.service is named for system units.
    'After=network-online.target docker.service',
    ...(input.user ? [] : ['Requires=docker.service']),
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    ...(input.runAs && !input.user ? [`User=${input.runAs}`] : []),
    ...Object.entries(input.env ?? {}).map(([key, value]) => `Environment=${systemdQuote(`${key}=${value}`)}`),
    'Environment=NO_COLOR=1',
    'Restart=always',
    'RestartSec=5',
    // SIGTERM aborts the agent: it drains and leaves the workloads running for the restart to re-adopt.
    'KillSignal=SIGTERM',
    'TimeoutStopSec=60',
    '',
    '[Install]',
    `WantedBy=${input.user ? 'default.target' : 'multi-user.target'}`,
    '',
  ];
  return lines.join('\n');
}

export const SERVICE_NAME = 'iocli-provider.service';

export function defaultServicePath(user: boolean, env: Record<string, string | undefined> = process.env, home = homedir()): string {
  if (user) return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'systemd', 'user', SERVICE_NAME);
  return join('/etc/systemd/system', SERVICE_NAME);
}

export function systemctlCommands(user: boolean, path: string): string[] {
  const name = path.endsWith('.service') ? path.split('/').pop()! : SERVICE_NAME;
  const ctl = user ? 'systemctl --user' : 'sudo systemctl';
  return [
    `${ctl} daemon-reload`,
    `${ctl} enable --now ${name}`,
    `${ctl} status ${name}`,
    user ? `journalctl --user -u ${name} -f` : `journalctl -u ${name} -f`,
    ...(user ? ['loginctl enable-linger "$USER"   # keep it running after you log out'] : []),
  ];
}

export async function writeServiceUnit(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text, { mode: 0o644 });
}
