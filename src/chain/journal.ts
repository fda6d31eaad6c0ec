// Persistence for the local chain: a genesis file plus an append-only log of every landed transaction.
//
// Why a log and not account snapshots: litesvm cannot enumerate all accounts (only per program owner), a log is
// one small sequential write per transaction (no full-state dump on every change or at shutdown, so a crash loses
// at most the last unflushed line), and replaying it rebuilds the transaction history too, so getTransaction and
// getSignatureStatuses keep answering for old signatures after a restart. Replay skips signature and blockhash
// checks (both passed when the transaction was first accepted), so it runs at litesvm speed (~10-20k tx/s).
// The log is not fsynced per transaction: a power cut may lose the last few transactions, acceptable for a dev chain.

import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import bs58 from 'bs58';

export interface Genesis {
  /** hex; every derived value (genesis hash, blockhashes, faucet key) comes from it. */
  seed: string;
  createdAt: string;
}

export interface JournalEntry {
  slot: number;
  blockTime: number;
  /** base64 wire bytes */
  tx: string;
}

export function genesisHashOf(genesis: Genesis): string {
  return bs58.encode(createHash('sha256').update(`iocli-local-genesis:${genesis.seed}`).digest());
}

/** The faucet's ed25519 seed: derived, so it never needs a key file of its own. */
export function faucetSeedOf(genesis: Genesis): Uint8Array {
  return createHash('sha256').update(`iocli-local-faucet:${genesis.seed}`).digest();
}

/** Seeds of the single validator's identity and vote account, derived like the faucet's. */
export function validatorSeedOf(genesis: Genesis, role: 'identity' | 'vote'): Uint8Array {
  return createHash('sha256').update(`iocli-local-validator-${role}:${genesis.seed}`).digest();
}

export function newGenesis(): Genesis {
  return { seed: randomBytes(32).toString('hex'), createdAt: new Date().toISOString() };
}

export class Journal {
  private fd: number | undefined;

  private constructor(
    private readonly logPath: string,
    private readonly slotPath: string,
    readonly genesis: Genesis,
  ) {}

  /** Opens (or creates) the chain data in `dataDir`. */
  static open(dataDir: string): Journal {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const genesisPath = join(dataDir, 'genesis.json');
    let genesis: Genesis;
    if (existsSync(genesisPath)) {
      genesis = JSON.parse(readFileSync(genesisPath, 'utf8')) as Genesis;
    } else {
      genesis = newGenesis();
      writeFileSync(genesisPath, `${JSON.stringify(genesis, null, 2)}\n`, { mode: 0o600 });
    }
    return new Journal(join(dataDir, 'ledger.jsonl'), join(dataDir, 'slot.json'), genesis);
  }

  /** The last slot the chain reached (and when), so a restart resumes after it instead of repeating slots. */
  readSlot(): { slot: number; time: number } | undefined {
    try {
      const saved = JSON.parse(readFileSync(this.slotPath, 'utf8')) as { slot: unknown; time: unknown };
      return Number.isSafeInteger(saved.slot) && Number.isSafeInteger(saved.time) ? (saved as { slot: number; time: number }) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Rewritten every slot; a torn write only loses the hint, and the ledger's last slot is the floor anyway. */
  writeSlot(saved: { slot: number; time: number }): void {
    writeFileSync(this.slotPath, `${JSON.stringify(saved)}\n`, { mode: 0o600 });
  }

  /** Every logged entry in order. A torn last line (crash mid-write) is cut off so later appends stay readable. */
  read(): JournalEntry[] {
    if (!existsSync(this.logPath)) return [];
    let text = readFileSync(this.logPath, 'utf8');
    if (text.length > 0 && !text.endsWith('\n')) {
      text = text.slice(0, text.lastIndexOf('\n') + 1);
      truncateSync(this.logPath, Buffer.byteLength(text));
    }
    return text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line, index) => {
        try {
          return JSON.parse(line) as JournalEntry;
        } catch {
          throw new Error(`Local chain ledger ${this.logPath} is corrupt at line ${index + 1}.`);
        }
      });
  }

  append(entry: JournalEntry): void {
    this.fd ??= openSync(this.logPath, 'a', 0o600);
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
