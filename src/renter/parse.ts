// Pure parsers for the renter's flags (--env K=V, --port P, --hours, --gpus, --max-price): one clear UsageError per bad value.
import { UsageError } from '../errors.js';
import { MAX_LEASE_HOURS } from '../domain/pricing.js';

/** Must match the wire format (envMap in src/api/schemas/primitives.ts) so a bad name is caught before anything is quoted or paid. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `--env K=V` repeated → a map; later duplicates win (like `docker run -e`). The value may contain '='. */
export function parseEnvPairs(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    if (eq === -1 || !ENV_NAME.test(name)) {
      throw new UsageError(`Invalid --env "${pair}".`, { hint: 'Use --env NAME=value; names are letters, digits and _ and do not start with a digit.' });
    }
    env[name] = pair.slice(eq + 1);
  }
  return env;
}

const MAX_ID = 2_147_483_647;

/** `--user UID:GID` → the numeric non-root user the container runs as. Root (0) is the default: leave the flag out. */
export function parseUser(value: string): { uid: number; gid: number } {
  const match = /^(\d{1,10}):(\d{1,10})$/.exec(value.trim());
  const uid = Number(match?.[1]);
  const gid = Number(match?.[2]);
  if (!match || uid < 1 || gid < 1 || uid > MAX_ID || gid > MAX_ID) {
    throw new UsageError(`Invalid --user "${value}".`, {
      hint: 'Use numeric ids, e.g. --user 1000:1000 (both 1-2147483647). Leave --user out to run as the image\'s default user (usually root).',
    });
  }
  return { uid, gid };
}

/** `--port 8080` repeated (or `--port 8080,8888`) → sorted unique port numbers. */
export function parsePorts(values: readonly string[]): number[] {
  const ports = new Set<number>();
  for (const value of values.flatMap((v) => v.split(','))) {
    const text = value.trim();
    const port = Number(text);
    if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
      throw new UsageError(`Invalid --port "${value}".`, { hint: 'Use a TCP port number between 1 and 65535, e.g. --port 8888.' });
    }
    ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

/** A positive whole number for `flag`, within `max`. */
export function parsePositiveInt(value: string, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  const text = value.trim();
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > max) {
    throw new UsageError(`Invalid ${flag} "${value}".`, { hint: `Use a whole number from 1 to ${max}.` });
  }
  return n;
}

/** Lease length: whole hours, 1..720. Leases are never open-ended, so there is no "until stopped". */
export function parseHours(value: string): number {
  return parsePositiveInt(value, '--hours', MAX_LEASE_HOURS);
}

/** A token amount such as "2.5" → integer base units; `flag` names the offending flag. */
/** Idempotency keys: what the API accepts (letters, digits, _ . : -), long enough to be unique. */
export function validateIdempotencyKey(value: string): string {
  if (!/^[A-Za-z0-9_.:-]{8,100}$/.test(value)) {
    throw new UsageError(`Invalid --idempotency-key "${value}".`, { hint: 'Use 8-100 letters, digits, _ . : or -, e.g. a UUID.' });
  }
  return value;
}

/** `--cmd "python train.py --epochs 3"` → argv, honouring simple single/double quotes. No shell ever runs it. */
export function splitCommand(text: string): string[] {
  const args: string[] = [];
  let current = '';
  let quote: '"' | "'" | undefined;
  let started = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) current += text[++i];
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      current += text[++i];
      started = true;
    } else if (/\s/.test(ch)) {
      if (started) args.push(current);
      current = '';
      started = false;
    } else {
      current += ch;
      started = true;
    }
  }
  if (quote) throw new UsageError(`Unbalanced ${quote} in --cmd.`, { hint: 'Close the quote, or pass the command as an argv after --, e.g. -- python train.py.' });
  if (started) args.push(current);
  return args;
}

/** GB on the command line → MB on the wire. Decimal GB, so "80" matches cards sold as 80 GB (81,559 MiB reported). */
export function vramFlagToMb(value: string, flag = '--min-vram'): number {
  const text = value.trim();
  const gb = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || gb <= 0 || gb > 10_000) throw new UsageError(`Invalid ${flag} "${value}".`, { hint: 'Use memory per GPU in GB, e.g. --min-vram 24.' });
  return Math.round(gb * 1000);
}

/** `lease port-forward` pairs: LOCAL:REMOTE, or REMOTE alone (the same port locally; 0 locally for any free port). */
export function parsePortPairs(specs: string[]): Array<{ local: number; remote: number }> {
  if (specs.length === 0) throw new UsageError('Give at least one port pair, e.g. 8888:8888 (LOCAL:REMOTE).');
  return specs.map((spec) => {
    const match = /^(?:(\d{1,5}):)?(\d{1,5})$/.exec(spec);
    const local = match ? Number(match[1] ?? match[2]) : NaN;
    const remote = match ? Number(match[2]) : NaN;
    if (!match || local > 65535 || remote < 1 || remote > 65535) {
      throw new UsageError(`Invalid port pair "${spec}": use LOCAL:REMOTE (e.g. 8888:8888) or REMOTE.`);
    }
    return { local, remote };
  });
}

export type CpEndpoints = { direction: 'upload' | 'download'; leaseId: string; localPath: string; remotePath: string };

const REMOTE = /^([A-Za-z0-9_.-]{1,100}):(\/.*)$/;

/** `lease cp` SRC DST: exactly one side is `ID:/absolute/path`. */
export function parseCpEndpoints(src: string, dst: string): CpEndpoints {
  const from = REMOTE.exec(src);
  const to = REMOTE.exec(dst);
  if (Boolean(from) === Boolean(to)) {
    throw new UsageError('One side of `lease cp` must be ID:/path in the lease and the other a local path.', {
      hint: 'e.g. iocli lease cp ./data lease_abc:/workspace   or   iocli lease cp lease_abc:/workspace/out ./results',
    });
  }
  if (from) return { direction: 'download', leaseId: from[1]!, remotePath: from[2]!, localPath: dst };
  return { direction: 'upload', leaseId: to![1]!, remotePath: to![2]!, localPath: src };
}
