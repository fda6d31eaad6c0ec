// Answering a GPU challenge on the CPU (the in-process stand-in for simulated GPUs): compute every batch, commit to it,
// and open the entries the coordinator samples. Also builds openings over a given product table, which tests tamper with.
import type { Opening } from './challenge.js';
import { fillRow, parseSeed } from './challenge-matrices.js';
import { leafHash, merkleLevels, merklePath } from './challenge-merkle.js';
import { leafCount, totalEntries, validParams, type ChallengeParams } from './challenge-params.js';

/** A computed challenge: its root, and what it needs to open any entry. */
export interface SolvedChallenge {
  root: string;
  open(entries: readonly number[]): Opening[];
}

/** Compute every batch, hash it into the tree and keep it for the openings. CPU, in-process: the stand-in solver. */
export function solveChallenge(seedHex: string, p: ChallengeParams): SolvedChallenge {
  if (!validParams(p)) throw new Error('Invalid challenge parameters.');
  const seed = parseSeed(seedHex);
  const { n, k } = p;
  const product = new Int32Array(totalEntries(p));
  const a = new Int8Array(n * k);
  const b = new Int8Array(n * k);
  const row = new Int8Array(k);
  for (let batch = 0; batch < p.batches; batch++) {
    for (let i = 0; i < n; i++) {
      fillRow(seed, batch, 0, i, k, row);
      a.set(row, i * k);
      fillRow(seed, batch, 1, i, k, row);
      b.set(row, i * k);
    }
    const base = batch * n * n;
    for (let i = 0; i < n; i++) {
      const ai = i * k;
      for (let j = 0; j < n; j++) {
        const bj = j * k;
        let sum = 0;
        for (let t = 0; t < k; t++) sum += a[ai + t]! * b[bj + t]!;
        product[base + i * n + j] = sum;
      }
    }
  }
  return committedAnswers(product, p);
}

/** Openings over a product table as given (the honest solver, and tests that tamper with entries before committing). */
export function committedAnswers(product: Int32Array, p: ChallengeParams, leaves: Buffer[] = hashLeaves(product, p)): SolvedChallenge {
  const levels = merkleLevels(leaves);
  return {
    root: levels.at(-1)![0]!.toString('base64'),
    open: (entries) =>
      entries.map((entry) => {
        const leaf = Math.floor(entry / p.leafEntries);
        return { entry, leaf: Array.from(product.subarray(leaf * p.leafEntries, (leaf + 1) * p.leafEntries)), path: merklePath(levels, leaf) };
      }),
  };
}

function hashLeaves(product: Int32Array, p: ChallengeParams): Buffer[] {
  const leaves: Buffer[] = [];
  for (let leaf = 0; leaf < leafCount(p); leaf++) leaves.push(leafHash(leaf, product.subarray(leaf * p.leafEntries, (leaf + 1) * p.leafEntries)));
  return leaves;
}
