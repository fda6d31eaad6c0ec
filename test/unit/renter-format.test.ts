// What renters are shown: token amounts, offer rows, quotes, why nothing fits, how to reach a lease, time left.
import { describe, expect, it } from 'vitest';
import type { Lease, NoCapacityDetails, Offer, Quote } from '../../src/api/schemas/leases.js';
import { ExitCode } from '../../src/errors.js';
import { noCapacityError, priceAboveMaxError } from '../../src/renter/errors.js';
import { explainNoCapacity, extensionCost, formatVram, isolationText, isTerminal, offerRow, quoteLines, leaseNetworkText, leaseUserText, reachInfo, rootFilesystemText, timeLeft, tokens, workloadExitCode } from '../../src/renter/format.js';
import { fundingHint } from '../../src/renter/payment.js';
import { ApiError } from '../../src/api/client.js';

const lease = (over: Partial<Lease> = {}): Lease => ({
  id: 'lease_1',
  renter: 'R',
  quoteId: 'q_1',
  state: 'running',
  gpus: 2,
  model: 'H100',
  hours: 1,
  pricePerGpuHour: 1_000_000,
  perHour: 2_000_000,
  totalPaid: 2_000_000,
  refund: 0,
  image: 'busybox',
  env: {},
  ports: [8888, 22],
  readOnlyRoot: false,
  allocations: [{ nodeId: 'node_a', gpuUuids: ['g0', 'g1'], pricePerGpuHour: 1_000_000, region: 'eu' }],
  paymentSignature: null,
  failureReason: null,
  createdAt: '2024-01-01T00:00:00.000Z',
  startedAt: null,
  endsAt: '2024-01-01T01:00:00.000Z',
  stoppedAt: null,
  ...over,
});

describe('tokens and sizes', () => {
  it.each([
    [0, '0'],
    [1, '0.000001'],
    [1_500_000, '1.5'],
    [123_456_789, '123.456789'],
    [2n ** 60n, '1152921504606.846976'],
  ])('%s base units = %s tokens', (units, text) => expect(tokens(units)).toBe(text));

  it.each([
    [81_559, '80 GB'],
    [24_564, '24 GB'],
    [512, '512 MB'],
  ])('formatVram(%d) = %s', (mb, text) => expect(formatVram(mb)).toBe(text));
});

describe('offerRow', () => {
  const offer: Offer = { nodeId: 'node_a', model: 'NVIDIA H100 80GB HBM3', vramMb: 81_559, freeGpus: 6, totalGpus: 8, pricePerGpuHour: 2_250_000, region: 'us-east', reliability: 0.987, verified: true, simulated: false };
  it.each([
    [offer, ['node_a', '6/8 × NVIDIA H100 80GB HBM3', '80 GB', '2.25', 'us-east', '99%', 'verified', 'unknown']],
    [{ ...offer, verified: false, simulated: true }, ['node_a', '6/8 × NVIDIA H100 80GB HBM3', '80 GB', '2.25', 'us-east', '99%', 'simulated', 'unknown']],
    [{ ...offer, verified: false }, ['node_a', '6/8 × NVIDIA H100 80GB HBM3', '80 GB', '2.25', 'us-east', '99%', 'unverified', 'unknown']],
    [
      { ...offer, isolation: { network: 'own' as const, rootRemapped: true, lanBlocked: true } },
      ['node_a', '6/8 × NVIDIA H100 80GB HBM3', '80 GB', '2.25', 'us-east', '99%', 'verified', 'own network, root remapped, LAN blocked'],
    ],
  ])('%#', (o, row) => expect(offerRow(o)).toEqual(row));
});

describe('quoteLines', () => {
  it('shows per-hour, total and fee in tokens', () => {
    const quote: Quote = { quoteId: 'q1', gpus: 8, model: 'H100', hours: 2, pricePerGpuHour: 2_000_000, perHour: 16_000_000, total: 32_000_000, fee: 1_600_000, expiresAt: '2024-01-01T00:05:00Z', placement: [{ nodeId: 'n1', gpuUuids: Array(8).fill('g'), pricePerGpuHour: 2_000_000, region: 'eu' }] };
    const lines = Object.fromEntries(quoteLines(quote));
    expect(lines).toMatchObject({ GPUs: '8 × H100', Placement: 'n1 (8 GPUs, eu)', Duration: '2 h', 'Per hour': '16 tokens', Total: '32 tokens', 'Price/GPU-h': '2 tokens' });
    expect(lines['Network fee']).toMatch(/^1\.6 tokens \(included/);
  });
});

describe('explainNoCapacity', () => {
  const requested = { gpus: 8, model: 'H100', maxPrice: null, region: null };
  const cases: Array<[string, NoCapacityDetails, RegExp, RegExp, boolean]> = [
    [
      'no nodes at all',
      { requested, nodesConsidered: 0, excluded: [], bestAlternative: null },
      /no provider nodes are online/,
      /No node has free GPUs/,
      false,
    ],
    [
      'model and per-node count',
      { requested, nodesConsidered: 5, excluded: [{ filter: 'model', nodes: 3 }, { filter: 'gpus per node', nodes: 2 }], bestAlternative: { nodeId: 'n2', model: 'NVIDIA H100', freeGpus: 4, pricePerGpuHour: 3_000_000, region: 'eu' } },
      /Not enough capacity for 8 × H100 \(5 nodes considered: 3 nodes have no H100 GPUs; 2 nodes match but have fewer than 8 free GPUs on one node \(--multi-node would combine nodes\)\)/,
      /Closest available: 4 × NVIDIA H100 on node n2 \(eu\) at 3 per GPU-hour; try --gpus 4 --model "NVIDIA H100"/,
      false,
    ],
    [
      'price only',
      { requested: { ...requested, maxPrice: 1_000_000 }, nodesConsidered: 2, excluded: [{ filter: 'maxPrice', nodes: 2 }], bestAlternative: { nodeId: 'n1', model: 'H100', freeGpus: 8, pricePerGpuHour: 2_500_000, region: 'us' } },
      /No 8 × H100 offer at or below --max-price 1 per GPU-hour/,
      /--max-price 2\.5/,
      true,
    ],
    [
      'region',
      { requested: { ...requested, region: 'ap' }, nodesConsidered: 1, excluded: [{ filter: 'region', nodes: 1 }], bestAlternative: { nodeId: 'n1', model: 'H100', freeGpus: 8, pricePerGpuHour: 2_000_000, region: 'eu' } },
      /1 node is outside region ap \(--region\)/,
      /--region eu/,
      false,
    ],
  ];
  it.each(cases)('%s', (_name, details, message, hint, priceOnly) => {
    const explained = explainNoCapacity(details);
    expect(explained.message).toMatch(message);
    expect(explained.hint).toMatch(hint);
    expect(explained.priceOnly).toBe(priceOnly);
  });

  it('turns the API error into exit 4 with reasons in details', () => {
    const details: NoCapacityDetails = { requested, nodesConsidered: 1, excluded: [{ filter: 'free GPUs', nodes: 1 }], bestAlternative: null };
    const apiError = new ApiError(409, 'No capacity', { code: 'NO_CAPACITY', details: details as unknown as Record<string, unknown>, exitCode: ExitCode.unavailable });
    const error = noCapacityError(apiError, 6)!;
    expect(error.exitCode).toBe(ExitCode.unavailable);
    expect(error.code).toBe('NO_CAPACITY');
    expect(error.details?.reasons).toEqual(['1 node has no free GPUs']);
    expect(noCapacityError(new ApiError(404, 'x', { code: 'NOT_FOUND', exitCode: 1 }), 6)).toBeUndefined();
  });

  it('price above --max-price exits 4 and says what limit would work', () => {
    const error = priceAboveMaxError(2_500_000, 2_000_000, 6);
    expect(error.exitCode).toBe(4);
    expect(error.message).toMatch(/2\.5 tokens per GPU-hour, above --max-price 2/);
    expect(error.hint).toMatch(/at least 2\.5/);
  });
});

describe('reachInfo', () => {
  it('lists the node, each port on it, and the next commands', () => {
    const info = reachInfo(lease());
    expect(info.nodes).toEqual(['node_a']);
    expect(info.endpoints).toEqual([
      { nodeId: 'node_a', port: 8888, forward: 'iocli lease port-forward lease_1 8888:8888' },
      { nodeId: 'node_a', port: 22, forward: 'iocli lease port-forward lease_1 22:22' },
    ]);
    expect(info.commands.shell).toBe('iocli lease shell lease_1');
    expect(info.commands.logs).toBe('iocli lease logs lease_1 --follow');
    expect(info.commands.stop).toBe('iocli lease stop lease_1');
  });
  it('spans nodes for multi-node leases', () => {
    const info = reachInfo(lease({ ports: [80], allocations: [{ nodeId: 'a', gpuUuids: ['1'], pricePerGpuHour: 1, region: 'x', publicHost: 'gpu-a.example' }, { nodeId: 'b', gpuUuids: ['2'], pricePerGpuHour: 1, region: 'x', publicHost: '2001:db8::1' }] }));
    // Rigs publish on their own loopback only: a provider's public host is never where a renter connects.
    expect(info.endpoints).toEqual([
      { nodeId: 'a', port: 80, forward: 'iocli lease port-forward lease_1 80:80 --node a' },
      { nodeId: 'b', port: 80, forward: 'iocli lease port-forward lease_1 80:80 --node b' },
    ]);
  });
});

describe('lease helpers', () => {
  const now = Date.parse('2024-01-01T00:00:00Z');
  it.each([
    ['2024-01-01T00:00:00Z', 'ended'],
    ['2023-12-31T00:00:00Z', 'ended'],
    ['2024-01-01T00:00:30Z', '1 min left'],
    ['2024-01-01T00:59:00Z', '59 min left'],
    ['2024-01-01T01:05:00Z', '1 h 5 min left'],
    ['2024-01-01T02:00:00Z', '2 h 0 min left'],
  ])('timeLeft(%s) = %s', (endsAt, text) => expect(timeLeft(endsAt, now)).toBe(text));

  it.each([
    ['paid', false],
    ['scheduled', false],
    ['running', false],
    ['completed', true],
    ['stopped', true],
    ['failed', true],
  ] as const)('isTerminal(%s) = %s', (state, terminal) => expect(isTerminal(state)).toBe(terminal));

  it.each([
    [{ state: 'completed', exitCode: 0 }, 0],
    [{ state: 'failed', exitCode: 3 }, 3],
    [{ state: 'failed', exitCode: 137 }, 137],
    [{ state: 'failed', exitCode: -1 }, 1],
    [{ state: 'completed' }, 0],
    [{ state: 'failed', exitCode: null }, null],
    [{ state: 'stopped', exitCode: null }, null],
    [{ state: 'running' }, null],
  ] as const)('workloadExitCode(%j) = %s', (lease, code) => expect(workloadExitCode(lease)).toBe(code));

  it.each([
    [{ readOnlyRoot: true }, 'read-only (writable /tmp tmpfs)'],
    [{ readOnlyRoot: false }, 'writable'],
    // A coordinator from before the field.
    [{}, 'writable'],
  ])('rootFilesystemText(%j) = %s', (over, text) => expect(rootFilesystemText(over)).toBe(text));

  it('extension cost is the per-hour price times hours', () => expect(extensionCost({ perHour: 2_000_000 }, 3)).toBe(6_000_000));
});

describe('fundingHint', () => {
  const network = { cluster: 'localnet', rpcUrl: 'http://127.0.0.1:8899', mint: 'Mint111', decimals: 6, treasury: 'T', feeBps: 500, dev: true };
  it.each([
    [network, 1, /iocli wallet airdrop --tokens 1\b/],
    [network, 2_500_001, /iocli wallet airdrop --tokens 3\b/],
    [{ ...network, cluster: 'mainnet-beta', dev: false }, 2_500_000, /Send at least 2\.5 tokens \(mint Mint111\) to ADDR/],
  ])('%#', (net, short, hint) => expect(fundingHint(net, 'ADDR', short)).toMatch(hint));
});

describe('lease user and network in words', () => {
  it.each([
    [undefined, 'unknown'],
    [null, 'unknown'],
    [{ network: 'own' as const, rootRemapped: false, lanBlocked: null }, 'own network, root not remapped, LAN unchecked'],
    [{ network: 'own' as const, rootRemapped: false, lanBlocked: false }, 'own network, root not remapped, LAN not blocked'],
  ])('isolation %j → %s', (isolation, text) => {
    expect(isolationText(isolation)).toBe(text);
  });

  it.each([
    [{}, "the image's default (usually root)"],
    [{ user: null }, "the image's default (usually root)"],
    [{ user: { uid: 1000, gid: 100 } }, '1000:100 (non-root)'],
  ])('user %j → %s', (lease, text) => {
    expect(leaseUserText(lease)).toBe(text);
  });

  it.each([
    [{ ports: [] }, /^own network with egress/],
    [{ egress: true, ports: [22] }, /^own network with egress/],
    [{ egress: false, ports: [] }, /^none \(no egress\)$/],
    [{ egress: false, ports: [22] }, /^own network, no egress/],
  ])('network %j → %s', (lease, text) => {
    expect(leaseNetworkText(lease)).toMatch(text);
  });
});
