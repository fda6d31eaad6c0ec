// What isolation this node gives its leases, beyond the container profile the agent always applies: whether root in a
// lease is remapped (userns-remap), whether the rig's LAN and own services are fenced off (firewall rules for the lease
// bridges), and which limits dockerd can grant. The agent cannot enforce these itself: preflight checks them and says how.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { NodeIsolation } from '../api/schemas/nodes.js';
import { daemonFlag } from '../docker/daemon-host.js';
import type { ContainerRuntime, DockerPreflight } from '../docker/runtime.js';
import { LEASE_BRIDGE_PATTERN, LEASE_ULIMITS, type ContainerUlimits } from '../domain/docker-args.js';
import type { PreflightCheck } from './preflight.js';

/** Address ranges a lease must never reach through the rig: private LANs, link-local (cloud metadata), carrier-grade NAT. */
export const BLOCKED_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10'] as const;

/**
 * The rules that fence lease bridges (`ioc+`) off the LAN (DOCKER-USER: forwarded traffic) and off the host's own
 * services (INPUT), in the order to run them: `-I` puts each at the top, so the ESTABLISHED accept ends above the drop
 * (the agent's relay connects into leases; their replies must come back).
 */
export const LEASE_FIREWALL_COMMANDS = [
  ...BLOCKED_RANGES.map((range) => `sudo iptables -I DOCKER-USER -i ${LEASE_BRIDGE_PATTERN} -d ${range} -j DROP`),
  `sudo iptables -I INPUT -i ${LEASE_BRIDGE_PATTERN} -j DROP`,
  `sudo iptables -I INPUT -i ${LEASE_BRIDGE_PATTERN} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`,
];

export interface IsolationFacts {
  docker: Pick<DockerPreflight, 'securityOptions'>;
  /** dockerd's command line when this machine can see the process; null otherwise. */
  daemonArgs: string[] | null;
  /** /etc/docker/daemon.json, parsed; null when absent or unreadable. */
  daemonConfig: Record<string, unknown> | null;
  /** `iptables -S` of DOCKER-USER and INPUT; null when they could not be read (not root, no iptables, no chain). */
  firewall: { dockerUser: string | null; input: string | null } | null;
  ulimits: { wanted: ContainerUlimits; granted: ContainerUlimits };
}

/** Whether `rules` (iptables -S output) holds a drop/reject for traffic from lease bridges matching every `needles`. */
function hasDrop(rules: string | null, needles: string[]): boolean {
  if (!rules) return false;
  return rules
    .split('\n')
    .some((line) => line.includes(`-i ${LEASE_BRIDGE_PATTERN}`) && /-j (DROP|REJECT)\b/.test(line) && needles.every((needle) => line.includes(needle)));
}

/** The LEASE_FIREWALL_COMMANDS not yet in effect, given the chains' `iptables -S` output. */
export function missingFirewallCommands(dockerUser: string | null, input: string | null): string[] {
  const missing = BLOCKED_RANGES.filter((range) => !hasDrop(dockerUser, [`-d ${range}`])).map(
    (range) => `sudo iptables -I DOCKER-USER -i ${LEASE_BRIDGE_PATTERN} -d ${range} -j DROP`,
  );
  const inputDropped = (input ?? '').split('\n').some((line) => line.includes(`-i ${LEASE_BRIDGE_PATTERN}`) && /-j (DROP|REJECT)\b/.test(line) && !/(-d|--dport|-p) /.test(line));
  if (!inputDropped) missing.push(...LEASE_FIREWALL_COMMANDS.slice(BLOCKED_RANGES.length));
  return missing;
}

function mib(bytes: number): string {
  return bytes === -1 ? 'unlimited' : `${Math.round(bytes / 1024 / 1024)} MiB`;
}

function describeUlimits(u: ContainerUlimits): string {
  return `memlock ${mib(u.memlock)}, stack ${mib(u.stack)}, nofile ${u.nofile === -1 ? 'unlimited' : u.nofile}`;
}

/** The preflight checks for lease isolation, and what the node tells renters about it. Pure. */
export function isolationChecks(facts: IsolationFacts): { checks: PreflightCheck[]; isolation: NodeIsolation } {
  const checks: PreflightCheck[] = [];
  const security = facts.docker.securityOptions ?? [];
  const rootless = security.some((option) => option.includes('name=rootless'));
  const remapped = security.some((option) => option.includes('name=userns'));
  if (rootless || remapped) {
    checks.push({
      id: 'lease-user',
      title: 'Root in leases',
      status: 'ok',
      message: rootless ? 'Docker runs rootless: root in a lease is an unprivileged user on the host' : 'remapped to an unprivileged host user (userns-remap)',
    });
  } else {
    checks.push({
      id: 'lease-user',
      title: 'Root in leases',
      status: 'warn',
      message: 'root in a lease is root on the host kernel, held in by the capability set, seccomp and no-new-privileges (no userns-remap)',
      hint: 'Add "userns-remap": "default" to /etc/docker/daemon.json, then: sudo systemctl restart docker (images are pulled again under the remapped root).',
    });
  }

  const flag = facts.daemonArgs ? daemonFlag(facts.daemonArgs, 'iptables') : undefined;
  const iptablesOff = flag === 'false' || facts.daemonConfig?.iptables === false;
  const rules = LEASE_FIREWALL_COMMANDS.join(' && ');
  let lanBlocked: boolean | null = null;
  if (iptablesOff) {
    lanBlocked = false;
    checks.push({
      id: 'lease-network',
      title: 'Lease network',
      status: 'warn',
      message:
        'Docker runs with --iptables=false: each lease still has its own network and ports only on 127.0.0.1, but leases get no NAT (no egress), --no-egress is not enforced, and nothing keeps them off the LAN',
      hint: `Remove --iptables=false (dockerd's flags, or "iptables": false in /etc/docker/daemon.json), restart Docker, then: ${rules}`,
    });
  } else if (facts.firewall === null) {
    checks.push({
      id: 'lease-network',
      title: 'Lease network',
      status: 'warn',
      message: 'own network per lease; could not read the firewall to check that leases are kept off the LAN and the host',
      hint: `Check as root: sudo iptables -S DOCKER-USER; sudo iptables -S INPUT. Missing rules: ${rules}`,
    });
  } else {
    const missing = missingFirewallCommands(facts.firewall.dockerUser, facts.firewall.input);
    lanBlocked = missing.length === 0;
    checks.push(
      lanBlocked
        ? { id: 'lease-network', title: 'Lease network', status: 'ok', message: `own network per lease; LAN (${BLOCKED_RANGES.join(', ')}) and host services blocked for ${LEASE_BRIDGE_PATTERN} bridges` }
        : {
            id: 'lease-network',
            title: 'Lease network',
            status: 'warn',
            message: 'own network per lease, but leases can reach the rig\'s LAN or its own services',
            hint: `${missing.join(' && ')} (keep them across reboots: sudo apt-get install -y iptables-persistent && sudo netfilter-persistent save)`,
          },
    );
  }

  const { wanted, granted } = facts.ulimits;
  const full = granted.memlock === wanted.memlock && granted.stack === wanted.stack && granted.nofile === wanted.nofile;
  checks.push(
    full
      ? { id: 'lease-limits', title: 'Lease limits', status: 'ok', message: `${describeUlimits(granted)} (NVIDIA's deep-learning settings)` }
      : {
          id: 'lease-limits',
          title: 'Lease limits',
          status: 'warn',
          message: `dockerd cannot raise container limits: leases get ${describeUlimits(granted)} instead of ${describeUlimits(wanted)}`,
          hint: 'sudo systemctl edit docker, add: [Service] LimitMEMLOCK=infinity LimitSTACK=infinity LimitNOFILE=1048576, then: sudo systemctl restart docker',
        },
  );

  return { checks, isolation: { network: 'own', rootRemapped: rootless || remapped, lanBlocked } };
}

function iptablesRules(chain: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('iptables', ['-w', '5', '-S', chain], { timeout: 10_000 }, (error, stdout) => resolve(error ? null : stdout));
  });
}

async function readDaemonConfig(path: string): Promise<Record<string, unknown> | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Reads what isolationChecks needs from this machine: Docker's security options, dockerd's flags and config, the firewall. */
export async function gatherIsolationFacts(
  runtime: ContainerRuntime,
  docker: Pick<DockerPreflight, 'securityOptions'>,
  options: { daemonConfigPath?: string } = {},
): Promise<IsolationFacts> {
  const [daemon, daemonConfig, dockerUser, input, granted] = await Promise.all([
    runtime.daemonProcess(),
    readDaemonConfig(options.daemonConfigPath ?? '/etc/docker/daemon.json'),
    iptablesRules('DOCKER-USER'),
    iptablesRules('INPUT'),
    runtime.grantableUlimits(),
  ]);
  return {
    docker,
    daemonArgs: daemon?.args ?? null,
    daemonConfig,
    // INPUT always exists where iptables works: unreadable means we cannot judge at all.
    firewall: input === null ? null : { dockerUser, input },
    ulimits: { wanted: { ...LEASE_ULIMITS }, granted },
  };
}
