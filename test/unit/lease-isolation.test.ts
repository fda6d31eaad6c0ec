// Lease isolation decisions over recorded facts: root remapping, the rig's firewall for lease bridges, dockerd's limits.
import { describe, expect, it } from 'vitest';
import { LEASE_ULIMITS } from '../../src/domain/docker-args.js';
import { isolationChecks, LEASE_FIREWALL_COMMANDS, missingFirewallCommands, type IsolationFacts } from '../../src/provider/lease-isolation.js';

// `iptables -S` as a host with every lease rule prints it (the order iptables -S normalises options to).
const DOCKER_USER_FENCED = [
  '-N DOCKER-USER',
  '-A DOCKER-USER -d 100.64.0.0/10 -i ioc+ -j DROP',
  '-A DOCKER-USER -d 169.254.0.0/16 -i ioc+ -j DROP',
  '-A DOCKER-USER -d 192.168.0.0/16 -i ioc+ -j DROP',
  '-A DOCKER-USER -d 172.16.0.0/12 -i ioc+ -j DROP',
  '-A DOCKER-USER -d 10.0.0.0/8 -i ioc+ -j DROP',
  '-A DOCKER-USER -j RETURN',
].join('\n');
const INPUT_FENCED = ['-P INPUT ACCEPT', '-A INPUT -i ioc+ -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', '-A INPUT -i ioc+ -j DROP'].join('\n');
const MiB = 1024 * 1024;

function facts(overrides: Partial<IsolationFacts> = {}): IsolationFacts {
  return {
    docker: { securityOptions: ['name=seccomp,profile=default'] },
    daemonArgs: ['/usr/bin/dockerd', '-H', 'fd://'],
    daemonConfig: null,
    firewall: { dockerUser: DOCKER_USER_FENCED, input: INPUT_FENCED },
    ulimits: { wanted: { ...LEASE_ULIMITS }, granted: { ...LEASE_ULIMITS } },
    ...overrides,
  };
}

const byId = (result: ReturnType<typeof isolationChecks>) => Object.fromEntries(result.checks.map((c) => [c.id, c]));

describe('lease isolation checks', () => {
  it('a fenced rig with userns-remap: all ok, and the node says so', () => {
    const result = isolationChecks(facts({ docker: { securityOptions: ['name=seccomp,profile=default', 'name=userns'] } }));
    expect(result.checks.map((c) => [c.id, c.status])).toEqual([['lease-user', 'ok'], ['lease-network', 'ok'], ['lease-limits', 'ok']]);
    expect(result.isolation).toEqual({ network: 'own', rootRemapped: true, lanBlocked: true });
  });

  it.each([
    [['name=seccomp,profile=default'], 'warn', false],
    [['name=seccomp,profile=default', 'name=userns'], 'ok', true],
    [['name=seccomp,profile=default', 'name=rootless'], 'ok', true],
    [[], 'warn', false],
  ])('security options %j → lease-user %s', (securityOptions, status, remapped) => {
    const result = isolationChecks(facts({ docker: { securityOptions } }));
    expect(byId(result)['lease-user']!.status).toBe(status);
    expect(result.isolation.rootRemapped).toBe(remapped);
    if (status === 'warn') expect(byId(result)['lease-user']!.hint).toContain('"userns-remap": "default"');
  });

  it.each([
    ['dockerd --iptables=false', { daemonArgs: ['dockerd', '--iptables=false', '--bridge=none'] }, false, /--iptables=false/],
    ['daemon.json iptables false', { daemonConfig: { iptables: false } }, false, /iptables/],
    ['firewall unreadable', { firewall: null }, null, /sudo iptables -S DOCKER-USER/],
    ['no lease rules', { firewall: { dockerUser: null, input: '-P INPUT ACCEPT' } }, false, /DOCKER-USER -i ioc\+ -d 10\.0\.0\.0\/8 -j DROP/],
  ])('%s → lease-network warns with the exact fix', (_name, override, lanBlocked, fix) => {
    const result = isolationChecks(facts(override as Partial<IsolationFacts>));
    const check = byId(result)['lease-network']!;
    expect(check.status).toBe('warn');
    expect(check.hint).toMatch(fix);
    expect(result.isolation.lanBlocked).toBe(lanBlocked);
  });

  it('names exactly the missing rules', () => {
    const partial = DOCKER_USER_FENCED.split('\n').filter((line) => !line.includes('169.254')).join('\n');
    expect(missingFirewallCommands(partial, INPUT_FENCED)).toEqual(['sudo iptables -I DOCKER-USER -i ioc+ -d 169.254.0.0/16 -j DROP']);
    expect(missingFirewallCommands(DOCKER_USER_FENCED, '-A INPUT -i ioc+ -p tcp --dport 22 -j DROP')).toEqual(LEASE_FIREWALL_COMMANDS.slice(-2));
    expect(missingFirewallCommands(null, null)).toEqual(LEASE_FIREWALL_COMMANDS);
    // A drop for some other interface does not fence the lease bridges.
    expect(missingFirewallCommands('-A DOCKER-USER -d 10.0.0.0/8 -i docker0 -j DROP', INPUT_FENCED)).toContain('sudo iptables -I DOCKER-USER -i ioc+ -d 10.0.0.0/8 -j DROP');
  });

  it('a daemon that cannot raise limits: lease-limits warns with what leases get and the fix', () => {
    const granted = { memlock: 8 * MiB, stack: 64 * MiB, nofile: 20_000 };
    const check = byId(isolationChecks(facts({ ulimits: { wanted: { ...LEASE_ULIMITS }, granted } })))['lease-limits']!;
    expect(check.status).toBe('warn');
    expect(check.message).toContain('memlock 8 MiB, stack 64 MiB, nofile 20000 instead of memlock unlimited, stack 64 MiB, nofile 65536');
    expect(check.hint).toContain('LimitMEMLOCK=infinity');
  });
});
