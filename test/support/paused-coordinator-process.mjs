// The coordinator process (dist/) with its payout sender wrapped so that it pauses, for crash tests that kill -9 it
// there. argv: options JSON, then the stage: `signed` pauses before a stored, signed transfer is sent; `sent` pauses
// after the transfer was sent and confirmed, before the outbox marks the row paid. A line on stderr marks each pause.
import { serveCoordinatorProcess } from '../../dist/src/coordinator/process-entry.js';

const stage = process.argv[3];
if (stage !== 'signed' && stage !== 'sent') throw new Error(`pause stage must be signed or sent, not ${stage}`);
const PAUSE_MS = 60_000;

// The payout each transfer this process signed pays (a transfer signed by an earlier process is named by its signature).
const payoutOf = new Map();

const pause = async (prepared) => {
  process.stderr.write(`IOCLI_TEST_PAUSED ${stage} ${payoutOf.get(prepared.signature) ?? prepared.signature}\n`);
  await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
};

await serveCoordinatorProcess(process.argv[2], {
  wrapPayoutSender: (sender) => ({
    prepare: async (payout) => {
      const prepared = await sender.prepare(payout);
      payoutOf.set(prepared.signature, payout.claimId);
      return prepared;
    },
    status: (prepared) => sender.status(prepared),
    send: async (prepared) => {
      if (stage === 'signed') await pause(prepared);
      const outcome = await sender.send(prepared);
      if (stage === 'sent') await pause(prepared);
      return outcome;
    },
  }),
});
