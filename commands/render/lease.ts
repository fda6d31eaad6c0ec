// People's view of one lease and how to reach it: `iocli rent` prints it when the lease runs, `iocli lease show` on
// request. The facts come from src/renter/format.ts (pure); the layout is here.
import type { Lease } from '../../src/api/schemas/leases.js';
import { isActiveLeaseState } from '../../src/domain/lease-states.js';
import { leaseIsolationText, leaseNetworkText, leaseUserText, reachInfo, rootFilesystemText, timeLeft, tokens } from '../../src/renter/format.js';
import type { HumanRenderer } from '../output.js';

/** The payment behind a lease as `rent` reports it (null: an unpaid development coordinator). */
export type LeasePayment = { amount: number; signature: string; explorer?: string; simulation?: { ok: boolean; err: unknown; logs: string[] } } | null;

export function renderLease(r: HumanRenderer, lease: Lease, decimals: number, now: number, payment?: LeasePayment): void {
  const reach = reachInfo(lease);
  const active = isActiveLeaseState(lease.state);
  if (lease.state === 'running') r.success(`Lease ${lease.id} is running.`);
  r.keyValues([
    ['Lease', lease.id],
    ['State', lease.state + (lease.failureReason ? ` (${lease.failureReason})` : '')],
    ['GPUs', `${lease.gpus} × ${lease.model ?? 'any'}`],
    ['Node', reach.nodes.length ? reach.nodes.join(', ') : undefined],
    ['Image', lease.image],
    ['Command', lease.command?.join(' ')],
    ['Root filesystem', rootFilesystemText(lease)],
    ['User', leaseUserText(lease)],
    ['Network', leaseNetworkText(lease)],
    ['Isolation', leaseIsolationText(lease)],
    ['Ports', reach.endpoints.length ? reach.endpoints.map((e) => `${e.port} on node ${e.nodeId}`).join(', ') : undefined],
    ['Price', `${tokens(lease.perHour, decimals)} tokens/h (${tokens(lease.pricePerGpuHour, decimals)} per GPU-hour)`],
    ['Paid', `${tokens(lease.totalPaid, decimals)} tokens for ${lease.hours} h`],
    ['Refund', lease.refund > 0 ? `${tokens(lease.refund, decimals)} tokens` : undefined],
    ['Unproven time', lease.frozenMinutes ? `${lease.frozenMinutes} min without evidence (liveness probes failed): ${tokens(lease.frozenRefund ?? 0, decimals)} tokens refunded` : undefined],
    ['Payment', payment ? `${payment.signature}${payment.explorer ? `  ${payment.explorer}` : ''}` : (lease.paymentSignature ?? undefined)],
    ['Started', lease.startedAt ?? undefined],
    active ? ['Ends', `${lease.endsAt} (${timeLeft(lease.endsAt, now)})`] : ['Ended', lease.stoppedAt ?? lease.endsAt],
    ['Exit code', lease.exitCode === null || lease.exitCode === undefined ? undefined : String(lease.exitCode)],
  ]);
  if (active) {
    r.line();
    r.line(r.colors.dim('Next:'));
    r.line(`  ${reach.commands.shell}`);
    for (const endpoint of reach.endpoints) r.line(`  ${endpoint.forward}`);
    r.line(`  ${reach.commands.logs}`);
    r.line(`  ${reach.commands.extend}`);
    r.line(`  ${reach.commands.stop}`);
  }
}
