// People's view of a node's GPU bond (`iocli provide bond|unbond`).
import type { NodeBond } from '../../src/api/schemas/provider-trust.js';
import { tokens } from '../../src/renter/format.js';
import type { HumanRenderer } from '../output.js';

export function renderBond(bond: NodeBond, decimals: number) {
  return (r: HumanRenderer) => {
    r.keyValues([
      ['Node', bond.nodeId],
      ['Bond held', `${tokens(bond.held, decimals)} tokens`],
      ['Unbond cooldown', `${Math.round(bond.cooldownMs / 3_600_000)} h`],
    ]);
    r.table(['#', 'GPU', 'Model', 'State', 'Balance', 'Required', 'Returned after'], bond.gpus.map((g, i) => [i, g.uuid, g.model, g.state, tokens(g.balance, decimals), tokens(g.required, decimals), g.unbondAt ?? '']));
  };
}
