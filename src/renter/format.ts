// Pure presentation decisions for renters: token amounts, quote summaries, why nothing fits, and how to reach a workload.
import type { Lease, NoCapacityDetails, Offer, Quote } from '../api/schemas/leases.js';
import type { NodeIsolation } from '../api/schemas/nodes.js';
import { formatTokenAmount, TOKEN_DECIMALS } from '../domain/money.js';


/** Base units → "1.5" (tokens), exact. */
export function tokens(amount: number | bigint, decimals = TOKEN_DECIMALS): string {
  return formatTokenAmount(BigInt(amount), decimals);
}

export function gpuLabel(gpus: number, model: string | null | undefined): string {
  return `${gpus} × ${model ?? 'any GPU'}`;
}

export function formatVram(vramMb: number): string {
  return vramMb >= 1024 ? `${Math.round(vramMb / 1024)} GB` : `${vramMb} MB`;
}

/** One offers-table row: node, GPUs × model, VRAM, price/GPU-h, region, reliability, verified. */
export function offerRow(offer: Offer, decimals = TOKEN_DECIMALS): string[] {
  return [
    offer.nodeId,
    `${offer.freeGpus}/${offer.totalGpus} × ${offer.model}`,
    formatVram(offer.vramMb),
    tokens(offer.pricePerGpuHour, decimals),
    offer.region,
    `${Math.round(offer.reliability * 100)}%`,
    offer.verification ?? (offer.simulated ? 'simulated' : offer.verified ? 'verified' : 'unverified'),
    isolationText(offer.isolation),
  ];
}

export const OFFER_TABLE_HEAD = ['Node', 'GPUs free × model', 'VRAM', 'Price/GPU-h', 'Region', 'Reliability', 'Verified', 'Isolation'];

/**
 * A node's lease isolation in a few words: its own network per lease always; whether root is remapped; whether the
 * rig's LAN is fenced off. Nodes that predate the report are `unknown`.
 */
export function isolationText(isolation: NodeIsolation | null | undefined): string {
  if (!isolation) return 'unknown';
  const lan = isolation.lanBlocked === true ? 'LAN blocked' : isolation.lanBlocked === false ? 'LAN not blocked' : 'LAN unchecked';
  return ['own network', isolation.rootRemapped ? 'root remapped' : 'root not remapped', lan].join(', ');
}

/** The quote as labelled lines for the confirmation screen (amounts in tokens). */
export function quoteLines(quote: Quote, decimals = TOKEN_DECIMALS, symbol = 'tokens'): Array<[string, string]> {
  const nodes = [...new Set(quote.placement.map((p) => p.nodeId))];
  return [
    ['GPUs', gpuLabel(quote.gpus, quote.model)],
    ['Placement', quote.placement.map((p) => `${p.nodeId} (${p.gpuUuids.length} GPU${p.gpuUuids.length === 1 ? '' : 's'}, ${p.region})`).join(', ')],
    ['Duration', `${quote.hours} h`],
    ['Price/GPU-h', `${tokens(quote.pricePerGpuHour, decimals)} ${symbol}`],
    ['Per hour', `${tokens(quote.perHour, decimals)} ${symbol}`],
    ['Total', `${tokens(quote.total, decimals)} ${symbol}`],
    ['Network fee', `${tokens(quote.fee, decimals)} ${symbol} (included; paid to the network, not the provider${nodes.length > 1 ? 's' : ''})`],
    ['Quote expires', quote.expiresAt],
  ];
}

type Phrase = (req: NoCapacityDetails['requested'], decimals: number, one: boolean) => string;
const FILTER_PHRASES: Record<string, Phrase> = {
  'free GPUs': (_r, _d, one) => `${one ? 'has' : 'have'} no free GPUs`,
  model: (req, _d, one) => `${one ? 'has' : 'have'} no ${req.model ?? 'matching'} GPUs`,
  minVram: (_r, _d, one) => `${one ? 'has' : 'have'} too little VRAM per GPU (--min-vram)`,
  region: (req, _d, one) => `${one ? 'is' : 'are'} outside region ${req.region ?? '(any)'} (--region)`,
  maxPrice: (req, d, one) => `${one ? 'costs' : 'cost'} more than ${req.maxPrice === null ? 'the limit' : tokens(req.maxPrice, d)} per GPU-hour (--max-price)`,
  'gpus per node': (req, _d, one) => `${one ? 'matches but has' : 'match but have'} fewer than ${req.gpus} free GPUs on one node (--multi-node would combine nodes)`,
  'total capacity': (req, _d, one) => `${one ? 'matches but has' : 'match but together have'} fewer than ${req.gpus} free GPUs`,
};

export interface CapacityExplanation {
  message: string;
  /** One line per filter that excluded nodes, in the order they were applied. */
  reasons: string[];
  hint: string;
  /** The price alone blocked the request: report as "price above --max-price". */
  priceOnly: boolean;
}

/** Why nothing fits, from the coordinator's no-capacity details, and the nearest request that would succeed. */
export function explainNoCapacity(details: NoCapacityDetails, decimals = TOKEN_DECIMALS): CapacityExplanation {
  const req = details.requested;
  const wanted = gpuLabel(req.gpus, req.model);
  const reasons = details.excluded
    .filter((e) => e.nodes > 0)
    .map((e) => `${e.nodes} node${e.nodes === 1 ? '' : 's'} ${(FILTER_PHRASES[e.filter] ?? (() => `excluded by ${e.filter}`))(req, decimals, e.nodes === 1)}`);
  const alt = details.bestAlternative;
  const priceOnly = details.excluded.length > 0 && details.excluded.every((e) => e.filter === 'maxPrice' || e.filter === 'free GPUs') &&
    details.excluded.some((e) => e.filter === 'maxPrice');
  let message: string;
  if (details.nodesConsidered === 0) message = `No capacity for ${wanted}: no provider nodes are online.`;
  else if (priceOnly && req.maxPrice !== null) message = `No ${wanted} offer at or below --max-price ${tokens(req.maxPrice, decimals)} per GPU-hour.`;
  else message = `Not enough capacity for ${wanted} (${details.nodesConsidered} node${details.nodesConsidered === 1 ? '' : 's'} considered${reasons.length ? `: ${reasons.join('; ')}` : ''}).`;

  let hint: string;
  if (alt) {
    const fit = [`--gpus ${Math.min(alt.freeGpus, req.gpus)}`, `--model "${alt.model}"`];
    if (req.region && req.region.toLowerCase() !== alt.region.toLowerCase()) fit.push(`--region ${alt.region}`);
    if (req.maxPrice !== null && alt.pricePerGpuHour > req.maxPrice) fit.push(`--max-price ${tokens(alt.pricePerGpuHour, decimals)}`);
    hint = `Closest available: ${alt.freeGpus} × ${alt.model} on node ${alt.nodeId} (${alt.region}) at ${tokens(alt.pricePerGpuHour, decimals)} per GPU-hour; try ${fit.join(' ')}.`;
    if (!req.model || alt.freeGpus < req.gpus) hint += ' See `iocli offers` for all capacity.';
  } else {
    hint = 'No node has free GPUs right now; see `iocli offers`, or try again later.';
  }
  return { message, reasons, hint, priceOnly };
}

export interface ReachInfo {
  leaseId: string;
  state: Lease['state'];
  nodes: string[];
  ports: number[];
  /**
   * Each requested port and how to reach it: rigs sit behind NAT and publish lease ports on their own 127.0.0.1 only, so
   * a port is reached through the coordinator's relay (`forward`), never at a provider's address.
   */
  endpoints: Array<{ nodeId: string; port: number; forward: string }>;
  endsAt: string;
  commands: { logs: string; stop: string; extend: string; show: string; shell: string; exec: string };
}

/** What to tell the renter once the lease runs: where it is and the next commands to use. */
export function reachInfo(lease: Lease): ReachInfo {
  const nodes = [...new Set(lease.allocations.map((a) => a.nodeId))];
  return {
    leaseId: lease.id,
    state: lease.state,
    nodes,
    ports: lease.ports,
    endpoints: nodes.flatMap((nodeId) => {
      const node = nodes.length > 1 ? ` --node ${nodeId}` : '';
      return lease.ports.map((port) => ({ nodeId, port, forward: `iocli lease port-forward ${lease.id} ${port}:${port}${node}` }));
    }),
    endsAt: lease.endsAt,
    commands: {
      logs: `iocli lease logs ${lease.id} --follow`,
      stop: `iocli lease stop ${lease.id}`,
      extend: `iocli lease extend ${lease.id} --hours 1`,
      show: `iocli lease show ${lease.id}`,
      shell: `iocli lease shell ${lease.id}`,
      exec: `iocli lease exec ${lease.id} -- CMD`,
    },
  };
}

/** How the lease's container root filesystem is mounted, in words. A lease from a coordinator without the field is writable. */
export function rootFilesystemText(lease: Partial<Pick<Lease, 'readOnlyRoot'>>): string {
  return lease.readOnlyRoot === true ? 'read-only (writable /tmp tmpfs)' : 'writable';
}

/** Who the lease's container runs as, in words. */
export function leaseUserText(lease: Partial<Pick<Lease, 'user'>>): string {
  return lease.user ? `${lease.user.uid}:${lease.user.gid} (non-root)` : "the image's default (usually root)";
}

/** The lease's network, in words: its own network always; egress unless the renter turned it off. */
export function leaseNetworkText(lease: Partial<Pick<Lease, 'egress' | 'ports'>>): string {
  const ports = (lease.ports?.length ?? 0) > 0;
  if (lease.egress === false) return ports ? 'own network, no egress (ports through the relay only)' : 'none (no egress)';
  return 'own network with egress (internet)';
}

/** The isolation of each node the lease runs on, in words (one node: just its text). */
export function leaseIsolationText(lease: Pick<Lease, 'allocations'>): string | undefined {
  if (lease.allocations.length === 0) return undefined;
  const texts = lease.allocations.map((a) => ({ nodeId: a.nodeId, text: isolationText(a.isolation) }));
  if (new Set(texts.map((t) => t.text)).size === 1) return texts[0]!.text;
  return texts.map((t) => `${t.nodeId}: ${t.text}`).join('; ');
}


export const TERMINAL_LEASE_STATES: ReadonlySet<Lease['state']> = new Set(['completed', 'stopped', 'failed']);

export function isTerminal(state: Lease['state']): boolean {
  return TERMINAL_LEASE_STATES.has(state);
}

/**
 * The exit code a finished batch job hands on (`rent --follow` exits with it, like `docker run`): the container's own
 * code (0-255); 0 for a completed lease from a coordinator that does not report codes; null when the workload did not
 * end by itself (stopped, expired, a node fault, never started).
 */
export function workloadExitCode(lease: Pick<Lease, 'state' | 'exitCode'>): number | null {
  if (typeof lease.exitCode === 'number') return lease.exitCode >= 0 && lease.exitCode <= 255 ? lease.exitCode : 1;
  return lease.state === 'completed' ? 0 : null;
}

/** Spinner text for a lease that is on its way to running. */
export function leaseProgressText(lease: Pick<Lease, 'id' | 'state'>, elapsedMs: number): string {
  const step: Record<string, string> = {
    paid: 'payment confirmed, waiting for a node',
    scheduled: 'scheduled, waiting for the node to start the container',
    running: 'running',
  };
  return `Lease ${lease.id}: ${step[lease.state] ?? lease.state} (${Math.floor(elapsedMs / 1000)}s)`;
}

/** Remaining time of a lease in words, e.g. "1 h 5 min left", "3 min left" or "ended". */
export function timeLeft(endsAt: string, now: number): string {
  const ms = Date.parse(endsAt) - now;
  if (!Number.isFinite(ms) || ms <= 0) return 'ended';
  const minutes = Math.ceil(ms / 60_000);
  return minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min left` : `${minutes} min left`;
}

/** The extra payment for extending a lease by `hours`. */
export function extensionCost(lease: Pick<Lease, 'perHour'>, hours: number): number {
  return lease.perHour * hours;
}
