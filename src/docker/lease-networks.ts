// A lease's own Docker network: created (or re-adopted) before its container starts, listed and removed by the node's
// labels. The same host-safety rule as containers: a network without this node's iocli labels is never used or removed.

import { buildNetworkCreateArgs, LABEL_LEASE, LABEL_MANAGED, LABEL_NODE, leaseNetworkName, type ContainerRunSpec } from '../domain/docker-args.js';
import { UserError } from '../errors.js';
import { isManagedBy } from './containers.js';
import { toExternalError, type DockerCli } from './exec.js';

/** A lease network carrying this node's iocli labels. */
export interface ManagedNetwork {
  name: string;
  leaseId: string;
}

// A lease network's name: a container name (up to 128 characters) plus `-net`.
const NETWORK_REF = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,131}$/;

/** The labels of network `name`, or undefined when it does not exist. */
async function networkLabels(cli: DockerCli, name: string): Promise<Record<string, string> | null | undefined> {
  const args = ['network', 'inspect', '--format', '{{json .Labels}}', name];
  const result = await cli.call(args);
  if (result.exitCode !== 0 || result.notInstalled || result.timedOut) {
    if (/No such network|not found/i.test(result.stderr)) return undefined;
    throw toExternalError(cli.describe(args), result);
  }
  try {
    return (JSON.parse(result.stdout.trim()) as Record<string, string> | null) ?? null;
  } catch {
    return null;
  }
}

/** Creates the lease's own network, or re-adopts the one this node made before (an agent restart, a retried start). */
export async function ensureLeaseNetwork(cli: DockerCli, nodeId: string, spec: ContainerRunSpec): Promise<string> {
  const name = leaseNetworkName(spec.name);
  const args = buildNetworkCreateArgs(spec);
  const result = await cli.call(args);
  if (result.exitCode === 0 && !result.notInstalled) return name;
  if (!/already exists/i.test(result.stderr)) throw toExternalError(cli.describe(args), result);
  const labels = await networkLabels(cli, name);
  if (labels === undefined) throw toExternalError(cli.describe(args), result);
  if (!isManagedBy(labels, nodeId) || labels?.[LABEL_LEASE] !== spec.leaseId) {
    throw new UserError(`Refusing to use network ${name}: it is not this node's network for lease ${spec.leaseId}.`, {
      code: 'CONTAINER_NOT_MANAGED',
      hint: `Remove or rename that network (docker network rm ${name}) if it is not iocli's.`,
    });
  }
  return name;
}

/** Removes a lease network of `nodeId`; gone already, or still used by a container, is not an error. */
export async function removeManagedNetwork(cli: DockerCli, nodeId: string, name: string): Promise<void> {
  if (typeof name !== 'string' || !NETWORK_REF.test(name)) {
    throw new UserError(`Invalid network name ${JSON.stringify(name)}.`, { code: 'CONTAINER_ID_INVALID' });
  }
  const labels = await networkLabels(cli, name);
  if (labels === undefined) return;
  if (!isManagedBy(labels, nodeId)) {
    throw new UserError(`Refusing to remove network ${name}: it is not an iocli network of node ${nodeId}.`, { code: 'CONTAINER_NOT_MANAGED' });
  }
  const args = ['network', 'rm', name];
  const result = await cli.call(args);
  if (result.exitCode === 0 && !result.notInstalled) return;
  // Still in use: a container of the same lease is being (re)started; the next sweep takes it when it is free.
  if (/No such network|not found|active endpoints/i.test(result.stderr)) return;
  throw toExternalError(cli.describe(args), result);
}

/** Lease networks labelled iocli.managed=true and iocli.node=<nodeId>, by name. */
export async function listManagedNetworks(cli: DockerCli, nodeId: string): Promise<ManagedNetwork[]> {
  const names = (
    await cli.check(['network', 'ls', '--filter', `label=${LABEL_MANAGED}=true`, '--filter', `label=${LABEL_NODE}=${nodeId}`, '--format', '{{.Name}}'])
  )
    .split('\n')
    .map((line) => line.trim())
    .filter((name) => NETWORK_REF.test(name));
  const networks: ManagedNetwork[] = [];
  for (const name of names) {
    const labels = await networkLabels(cli, name);
    if (labels && isManagedBy(labels, nodeId)) networks.push({ name, leaseId: labels[LABEL_LEASE]! });
  }
  return networks.sort((a, b) => a.name.localeCompare(b.name));
}
