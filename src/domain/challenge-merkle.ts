// The commitment of a GPU challenge: a SHA-256 Merkle tree over leaves of product entries (leaf and inner nodes hashed
// with distinct prefixes), the path that opens one leaf, and checking a path against the root. Pure.
import { createHash } from 'node:crypto';

const LEAF = Buffer.from([0]);
const INNER = Buffer.from([1]);

export function leafHash(index: number, entries: ArrayLike<number>): Buffer {
  const bytes = Buffer.alloc(4 + entries.length * 4);
  bytes.writeUInt32BE(index >>> 0, 0);
  for (let i = 0; i < entries.length; i++) bytes.writeInt32LE(entries[i]!, 4 + i * 4);
  return createHash('sha256').update(LEAF).update(bytes).digest();
}

function innerHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(INNER).update(left).update(right).digest();
}

/** Every level of the tree, leaves first; an odd last node is paired with itself. */
export function merkleLevels(leaves: Buffer[]): Buffer[][] {
  if (leaves.length === 0) throw new Error('A Merkle tree needs at least one leaf.');
  const levels = [leaves];
  while (levels.at(-1)!.length > 1) {
    const below = levels.at(-1)!;
    const above: Buffer[] = [];
    for (let i = 0; i < below.length; i += 2) above.push(innerHash(below[i]!, below[i + 1] ?? below[i]!));
    levels.push(above);
  }
  return levels;
}

export function merklePath(levels: Buffer[][], leafIndex: number): string[] {
  const path: string[] = [];
  let index = leafIndex;
  for (let level = 0; level < levels.length - 1; level++) {
    const nodes = levels[level]!;
    const sibling = index ^ 1;
    path.push((nodes[sibling] ?? nodes[index]!).toString('base64'));
    index >>= 1;
  }
  return path;
}

/** Does `leaf` at `leafIndex`, with `path`, hash up to `root` (tree of `leafCount` leaves)? */
export function verifyMerklePath(root: Buffer, leafCount: number, leafIndex: number, leaf: Buffer, path: readonly string[]): boolean {
  let depth = 0;
  for (let width = leafCount; width > 1; width = Math.ceil(width / 2)) depth++;
  if (path.length !== depth) return false;
  let hash = leaf;
  let index = leafIndex;
  for (const encoded of path) {
    const sibling = Buffer.from(encoded, 'base64');
    if (sibling.length !== 32) return false;
    hash = index & 1 ? innerHash(sibling, hash) : innerHash(hash, sibling);
    index >>= 1;
  }
  return hash.equals(root);
}
