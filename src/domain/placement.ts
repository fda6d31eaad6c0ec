// Pure scheduling decision: which free GPUs on which nodes serve a lease request (DESIGN.md, Leases and scheduling).

export interface PlacementGpu {
  id: string;
  uuid: string;
  index: number;
  model: string;
  vramMb: number;
}

export interface PlacementNode {
  id: string;
  region: string;
  pricePerGpuHour: number;
  /** 0..1; higher wins ties on price. */
  reliability: number;
  verified: boolean;
  freeGpus: PlacementGpu[];
}

export interface PlacementRequest {
  gpus: number;
  model?: string;
  minVram?: number;
  region?: string;
  maxPrice?: number;
  multiNode?: boolean;
  /**
   * Breaks the last tie (equal price, reliability and fit) by a hash of salt and node id instead of the id alone, so
   * concurrent requests with different salts spread over equally good nodes rather than all aiming at the first one.
   */
  spreadSalt?: string;
}

export interface PlacedAllocation {
  nodeId: string;
  gpuIds: string[];
  gpuUuids: string[];
  pricePerGpuHour: number;
  region: string;
}

export interface PlacementExplanation {
  nodesConsidered: number;
  /** In filter order; each node is counted under the first filter it fails. */
  excluded: Array<{ filter: 'free GPUs' | 'model' | 'minVram' | 'region' | 'maxPrice' | 'gpus per node' | 'total capacity'; nodes: number }>;
  bestAlternative: { nodeId: string; model: string; freeGpus: number; pricePerGpuHour: number; region: string } | null;
}

export type PlacementResult = { ok: true; allocations: PlacedAllocation[] } | { ok: false; explanation: PlacementExplanation };

/** Model names match case-insensitively on substrings, so "4090" finds "NVIDIA GeForce RTX 4090". */
export function modelMatches(model: string, wanted: string | undefined): boolean {
  if (!wanted) return true;
  return model.toLowerCase().includes(wanted.toLowerCase());
}

function matchingGpus(node: PlacementNode, request: PlacementRequest): PlacementGpu[] {
  return node.freeGpus
    .filter((gpu) => modelMatches(gpu.model, request.model) && gpu.vramMb >= (request.minVram ?? 0))
    .sort((a, b) => a.index - b.index);
}

/** Cheapest first; reliability breaks ties; then the tighter fit (keeps big nodes whole for big requests); then the spread salt, then id. */
function better(a: { node: PlacementNode; free: number }, b: { node: PlacementNode; free: number }, salt: string | undefined): number {
  return (
    a.node.pricePerGpuHour - b.node.pricePerGpuHour ||
    b.node.reliability - a.node.reliability ||
    a.free - b.free ||
    (salt === undefined ? 0 : spreadRank(salt, a.node.id) - spreadRank(salt, b.node.id)) ||
    (a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0)
  );
}

/** FNV-1a of salt and id: a cheap, stable pseudo-random order per salt. */
function spreadRank(salt: string, id: string): number {
  let hash = 0x811c9dc5;
  const text = `${salt}:${id}`;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * Prefer one node with `gpus` free GPUs of the model (locality); with `multiNode`, span the cheapest nodes when no single one fits.
 * GPUs of one allocation are the same model, so a lease never mixes models on a node.
 */
export function placeLease(nodes: readonly PlacementNode[], request: PlacementRequest): PlacementResult {
  const eligible: Array<{ node: PlacementNode; gpus: PlacementGpu[]; free: number }> = [];
  const counts = { 'free GPUs': 0, model: 0, minVram: 0, region: 0, maxPrice: 0, 'gpus per node': 0, 'total capacity': 0 };
  let bestSingle: { node: PlacementNode; gpus: PlacementGpu[]; free: number } | undefined;

  for (const node of nodes) {
    if (node.freeGpus.length === 0) { counts['free GPUs']++; continue; }
    if (!node.freeGpus.some((g) => modelMatches(g.model, request.model))) { counts.model++; continue; }
    const gpus = matchingGpus(node, request);
    if (gpus.length === 0) { counts.minVram++; continue; }
    if (request.region && node.region.toLowerCase() !== request.region.toLowerCase()) { counts.region++; continue; }
    if (request.maxPrice !== undefined && node.pricePerGpuHour > request.maxPrice) { counts.maxPrice++; continue; }
    const candidate = { node, gpus, free: gpus.length };
    eligible.push(candidate);
    if (gpus.length >= request.gpus && (!bestSingle || better(candidate, bestSingle, request.spreadSalt) < 0)) bestSingle = candidate;
  }

  if (bestSingle) return { ok: true, allocations: [allocate(bestSingle.node, bestSingle.gpus.slice(0, request.gpus))] };

  if (request.multiNode) {
    const total = eligible.reduce((sum, c) => sum + c.free, 0);
    if (total >= request.gpus) {
      // Cheapest first, and among equal prices the larger nodes first so the lease spans as few nodes as possible.
      const ordered = [...eligible].sort(
        (a, b) => a.node.pricePerGpuHour - b.node.pricePerGpuHour || b.free - a.free || b.node.reliability - a.node.reliability || (a.node.id < b.node.id ? -1 : 1),
      );
      const allocations: PlacedAllocation[] = [];
      let remaining = request.gpus;
      for (const c of ordered) {
        if (remaining === 0) break;
        const take = c.gpus.slice(0, Math.min(remaining, c.free));
        allocations.push(allocate(c.node, take));
        remaining -= take.length;
      }
      return { ok: true, allocations };
    }
    counts['total capacity'] = eligible.length;
  } else {
    counts['gpus per node'] = eligible.length;
  }

  return { ok: false, explanation: explain(nodes, request, counts) };
}

function allocate(node: PlacementNode, gpus: PlacementGpu[]): PlacedAllocation {
  return { nodeId: node.id, gpuIds: gpus.map((g) => g.id), gpuUuids: gpus.map((g) => g.uuid), pricePerGpuHour: node.pricePerGpuHour, region: node.region };
}

function explain(nodes: readonly PlacementNode[], request: PlacementRequest, counts: Record<PlacementExplanation['excluded'][number]['filter'], number>): PlacementExplanation {
  const excluded = (Object.entries(counts) as Array<[PlacementExplanation['excluded'][number]['filter'], number]>)
    .filter(([, n]) => n > 0)
    .map(([filter, n]) => ({ filter, nodes: n }));
  // The alternative: the node with the most free GPUs of the wanted model (any model if none has it), cheapest among equals.
  let best: PlacementExplanation['bestAlternative'] = null;
  let bestScore: [number, number] | undefined;
  for (const node of nodes) {
    const byModel = new Map<string, number>();
    for (const gpu of node.freeGpus) byModel.set(gpu.model, (byModel.get(gpu.model) ?? 0) + 1);
    for (const [model, free] of byModel) {
      const score: [number, number] = [(modelMatches(model, request.model) ? 1_000_000 : 0) + Math.min(free, request.gpus), -node.pricePerGpuHour];
      if (!bestScore || score[0] > bestScore[0] || (score[0] === bestScore[0] && score[1] > bestScore[1])) {
        bestScore = score;
        best = { nodeId: node.id, model, freeGpus: free, pricePerGpuHour: node.pricePerGpuHour, region: node.region };
      }
    }
  }
  return { nodesConsidered: nodes.length, excluded, bestAlternative: best };
}
