// `provide why`: why a node is not offered or not earning, from the coordinator's own data, with the next step for each.
import type { NodeWhy } from '../api/schemas/provider-trust.js';
import { listChallenges } from './challenges.js';
import { iso, type CoordinatorContext } from './context.js';
import { nodeFor } from './nodes.js';

const DAY_MS = 86_400_000;

export async function explainNode(ctx: CoordinatorContext, nodeId: string, actor: string): Promise<NodeWhy> {
  await nodeFor(ctx, nodeId, actor);
  await ctx.heartbeats.flush();
  const now = ctx.options.now();
  const node = await ctx.db.selectFrom('nodes').selectAll().where('id', '=', nodeId).executeTakeFirstOrThrow();
  const challenges = await listChallenges(ctx, nodeId, 5);
  const reasons: NodeWhy['reasons'] = [];
  const add = (code: string, message: string, next: string) => reasons.push({ code, message, next });

  if (node.status !== 'online') {
    const seen = node.last_heartbeat_at === null ? 'never' : `${Math.round((now - Number(node.last_heartbeat_at)) / 1000)} s ago`;
    add('OFFLINE', `The node is offline: its last heartbeat arrived ${seen}.`, 'Start the agent on the rig: `iocli provide` (or `iocli provide install-service` to run it at boot).');
  }
  if (node.draining) add('DRAINING', 'The agent is draining: no new leases are placed on it.', 'Restart the agent with `iocli provide` once the running leases are done.');

  const passed = Number(node.verified) === 1 && node.verified_until !== null && Number(node.verified_until) > now;
  if (!passed) {
    const last = challenges.find((c) => c.state !== 'cancelled');
    if (!last) add('NOT_VERIFIED', 'No GPU challenge was ever issued to this node.', 'Restart the agent (`iocli provide`): registering issues a challenge.');
    else if (last.state === 'issued' || last.state === 'committed') add('CHALLENGE_PENDING', `GPU challenge ${last.id} is open (${last.state}); the deadline is ${last.deadlineAt}.`, 'Keep the agent running: it answers by itself. Check `iocli provide logs` if it does not pass.');
    else if (last.state === 'failed') add('CHALLENGE_FAILED', `The last GPU challenge (${last.id}) failed: ${last.detail ?? 'wrong answer'}.`, 'Check the GPUs (`iocli gpus`, `nvidia-smi`) and that the node reports its real models, then restart `iocli provide` for a new challenge.');
    else if (last.state === 'expired') {
      const timing = last.computeMs === null ? `no commitment arrived within ${last.allowedMs} ms` : `the commitment took ${last.computeMs} ms of the ${last.allowedMs} ms allowed`;
      add('CHALLENGE_EXPIRED', `The last GPU challenge (${last.id}) expired: ${timing}${last.detail ? ` (${last.detail})` : ''}.`, 'Make sure the GPUs are the models the node claims and are not busy with other work, then restart `iocli provide`.');
    } else if (node.verified_until !== null) add('VERIFICATION_EXPIRED', `The last passed GPU challenge aged out at ${iso(Number(node.verified_until))}.`, 'Keep the agent online with its GPUs free: the coordinator re-challenges by itself; restarting `iocli provide` asks at once.');
    else add('NOT_VERIFIED', 'The node has no passing GPU challenge.', 'Restart the agent (`iocli provide`): registering issues a challenge.');
  }
  // A --dev coordinator offers unverified nodes (labelled); the reason above still explains their label.
  const verifiedEnough = passed || ctx.options.dev;

  const gpuRows = await ctx.db.selectFrom('gpus').select(['bonded', 'lease_id']).where('node_id', '=', nodeId).execute();
  const bondedFree = gpuRows.filter((g) => Number(g.bonded) === 1 && g.lease_id === null).length;
  const unbonded = gpuRows.filter((g) => Number(g.bonded) !== 1).length;
  if (unbonded > 0) {
    const required = !ctx.options.dev;
    add(
      'NOT_BONDED',
      `${unbonded} of ${gpuRows.length} GPU(s) carry no bond${required ? ', and this coordinator offers only bonded GPUs' : ' (a --dev coordinator offers them anyway)'}.`,
      'Deposit the bond: `iocli provide bond` (the amount per GPU is in `iocli network status` / GET /v1/network).',
    );
  }
  const bondedEnough = ctx.options.dev || bondedFree > 0;

  const slashes = await ctx.db.selectFrom('slashes').select(['trigger', 'amount']).where('node_id', '=', nodeId).where('created_at', '>', now - 7 * DAY_MS).execute();
  if (slashes.length > 0) {
    add('SLASHED', `The bond was slashed ${slashes.length} time(s) in the last 7 days (${slashes.reduce((n, s) => n + Number(s.amount), 0)} base units): ${slashes.map((s) => s.trigger).join(', ')}.`, 'Keep the node online while it runs leases and answer challenges honestly; top the bond up with `iocli provide bond` once unbonded GPUs show.');
  }

  const running = await ctx.db
    .selectFrom('lease_allocations as a')
    .innerJoin('leases as l', 'l.id', 'a.lease_id')
    .select((eb) => eb.fn.count<number>('l.id').distinct().as('n'))
    .where('a.node_id', '=', nodeId)
    .where('a.active', '=', 1)
    .where('l.state', '=', 'running')
    .executeTakeFirst();
  const unproven = await ctx.db
    .selectFrom('lease_allocations as a')
    .innerJoin('leases as l', 'l.id', 'a.lease_id')
    .select(['l.id', 'l.unproven_from'])
    .distinct()
    .where('a.node_id', '=', nodeId)
    .where('a.active', '=', 1)
    .where('l.state', '=', 'running')
    .where('l.unproven_from', 'is not', null)
    .execute();
  if (unproven.length > 0) {
    const lastFailed = await ctx.db.selectFrom('probes').select('detail').where('node_id', '=', nodeId).where('state', 'in', ['failed', 'expired']).orderBy('issued_at', 'desc').limit(1).executeTakeFirst();
    add(
      'EARNING_PAUSED',
      `A liveness probe of lease(s) ${unproven.map((l) => l.id).join(', ')} failed or went unanswered at ${iso(Number(unproven[0]!.unproven_from))}${lastFailed?.detail ? ` (${lastFailed.detail})` : ''}: they earn nothing until a later probe passes, and the renter gets those minutes back.`,
      'Keep the agent running with its relay link up (the coordinator checks inside the lease containers through it) and the containers running (`iocli provide logs`); the next random probe resumes earnings.',
    );
  }
  const earning = Number(running?.n ?? 0) > unproven.length;
  if (Number(node.free_gpus) === 0 && Number(node.total_gpus) > 0 && !earning) add('NO_FREE_GPUS', 'Every GPU is held by a lease that is not running yet.', 'Wait: the agent starts the containers; check `iocli provide logs` if they fail to start.');

  // Demand: what renters asked for over the last day (quotes are kept whether or not they were paid).
  const quotes = await ctx.db.selectFrom('quotes').select(['model', 'price_per_gpu_hour']).where('created_at', '>', now - DAY_MS).orderBy('created_at', 'desc').limit(1000).execute();
  const price = Number(node.price_per_gpu_hour);
  if (quotes.length === 0) {
    if (!earning) add('NO_DEMAND', 'No renter asked for capacity on this coordinator in the last 24 h.', 'Nothing to fix on the node; keep it online to be first in line.');
  } else {
    const models = node.models.split('|');
    const wanted = quotes.filter((q) => q.model === null || models.some((m) => m.includes(q.model!.toLowerCase())));
    if (wanted.length === 0) {
      const asked = [...new Set(quotes.map((q) => q.model))].slice(0, 5).join(', ');
      add('MODEL_NOT_ASKED', `In the last 24 h renters asked only for other models (${asked}).`, 'Nothing to fix on the node: demand for its model may come later.');
    } else {
      const highest = Math.max(...wanted.map((q) => Number(q.price_per_gpu_hour)));
      if (price > highest) add('PRICE_ABOVE_QUOTES', `The price ${price} per GPU-hour is above every quote of the last 24 h (the highest was ${highest}).`, `Lower the price: \`iocli provide --price\` at or below ${highest} base units' worth (see \`iocli offers\` for the going rates).`);
    }
  }
  const offered = node.status === 'online' && !node.draining && Number(node.free_gpus) > 0 && verifiedEnough && bondedEnough;
  return { nodeId, offered, earning, verifiedUntil: passed ? iso(Number(node.verified_until)) : null, reasons, challenges };
}
