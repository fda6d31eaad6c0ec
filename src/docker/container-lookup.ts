// Finding this node's containers through the docker CLI: one by id or name (with the ownership check), and all of them.
// Kept apart from the lifecycle so every caller that acts on a container goes through the same refusal of foreign ones.

import { isValidLabelId, LABEL_MANAGED, LABEL_NODE } from '../domain/docker-args.js';
import { UserError } from '../errors.js';
import { isManagedBy, toManagedContainer, type ManagedContainer, type RawInspect } from './containers.js';
import { toExternalError, type DockerCli } from './exec.js';

// A container id (hex, full or prefix) or name. Never an option: a leading '-' is impossible here.
const CONTAINER_REF = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
/** A full container id as docker prints it. */
export const FULL_ID = /^[a-f0-9]{64}$/;

function notManaged(ref: string, nodeId: string): UserError {
  return new UserError(`Refusing to touch container ${ref}: it is not an iocli container of node ${nodeId}.`, {
    code: 'CONTAINER_NOT_MANAGED',
    hint: 'iocli only manages containers it started (labels iocli.managed=true and iocli.node); manage other containers with docker directly.',
    details: { container: ref, nodeId },
  });
}

export function containerNotFound(ref: string): UserError {
  return new UserError(`Container ${ref} does not exist.`, { code: 'CONTAINER_NOT_FOUND', details: { container: ref } });
}

function parseInspectArray(stdout: string): RawInspect[] {
  const text = stdout.trim();
  if (text.length === 0) return [];
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? (parsed as RawInspect[]) : [];
  } catch {
    return [];
  }
}

/**
 * Resolves `ref` to a container that carries `nodeId`'s labels, by full id; undefined when it does not exist.
 * Callers act on the returned full id, so a name or prefix cannot switch containers in between.
 */
export async function resolveManagedContainer(cli: DockerCli, nodeId: string, ref: string): Promise<ManagedContainer | undefined> {
  if (typeof ref !== 'string' || !CONTAINER_REF.test(ref)) {
    throw new UserError(`Invalid container id ${JSON.stringify(ref)}.`, { code: 'CONTAINER_ID_INVALID' });
  }
  const args = ['container', 'inspect', ref];
  const result = await cli.call(args);
  if (result.exitCode !== 0 || result.notInstalled || result.timedOut) {
    if (/No such (container|object)/i.test(result.stderr)) return undefined;
    throw toExternalError(cli.describe(args), result);
  }
  const [raw] = parseInspectArray(result.stdout);
  if (!raw || !raw.Id || !FULL_ID.test(raw.Id)) return undefined;
  if (!isManagedBy(raw.Config?.Labels, nodeId)) throw notManaged(ref, nodeId);
  return toManagedContainer(raw);
}

/** Containers labelled iocli.managed=true and iocli.node=<nodeId>, running or not, by name. */
export async function listManagedContainers(cli: DockerCli, nodeId: string): Promise<ManagedContainer[]> {
  if (!isValidLabelId(nodeId)) throw new UserError(`Invalid node id ${JSON.stringify(nodeId)}.`, { code: 'CONTAINER_SPEC_INVALID' });
  const ids = (
    await cli.check([
      'ps', '-a', '--no-trunc',
      '--filter', `label=${LABEL_MANAGED}=true`,
      '--filter', `label=${LABEL_NODE}=${nodeId}`,
      '--format', '{{.ID}}',
    ])
  )
    .split('\n')
    .map((line) => line.trim())
    .filter((id) => FULL_ID.test(id));
  if (ids.length === 0) return [];
  const args = ['container', 'inspect', ...ids];
  const result = await cli.call(args);
  // A container removed between ps and inspect is simply gone; anything else is a failure.
  const unexpected = result.stderr.split('\n').filter((line) => line.trim() && !/No such (container|object)/i.test(line));
  if (result.notInstalled || result.timedOut || (result.exitCode !== 0 && unexpected.length > 0)) {
    throw toExternalError(cli.describe(args), result);
  }
  return parseInspectArray(result.stdout)
    .filter((raw) => isManagedBy(raw.Config?.Labels, nodeId))
    .map(toManagedContainer)
    .sort((a, b) => a.name.localeCompare(b.name));
}
