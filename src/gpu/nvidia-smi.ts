// nvidia-smi, run: the authoritative per-GPU facts (UUID, index, memory, driver, CUDA, MIG) from one query, retried
// without a field the driver refuses, completed by the MIG and version outputs. The parsers and the failure diagnosis
// live beside it (nvidia-smi-query.ts, nvidia-smi-text.ts, nvidia-smi-diagnosis.ts).
import { CancelledError, ExternalError } from '../errors.js';
import { diagnoseNvidiaSmiFailure, type NvidiaSmiRun } from './nvidia-smi-diagnosis.js';
import { isOptionalQueryField, parseHelpQueryGpu, parseNvidiaSmiCsv, planQueryFields, queryArgs, refusedQueryField, valuesNotAsked, type NvidiaSmiGpu } from './nvidia-smi-query.js';
import { parseMigMemory, parseNvidiaSmiList, parseNvidiaSmiVersions } from './nvidia-smi-text.js';

export interface NvidiaSmiFacts {
  gpus: NvidiaSmiGpu[];
  driver: string | null;
  cuda: string | null;
  /** The query fields asked (pass back as `fields` to skip asking the driver again). */
  fields: string[];
  /** Values this driver could not give: fields it does not list or refused. Their readings are null. */
  unavailableFields: string[];
}

export type NvidiaSmiResult = ({ status: 'ok' } & NvidiaSmiFacts) | { status: 'missing' | 'no-devices'; message: string; hint?: string };

export interface NvidiaSmiOptions {
  /** The binary to run; a name is looked up on PATH. */
  command?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Query fields a previous result settled on: skips `--help-query-gpu`. */
  fields?: readonly string[];
  /** Per-GPU readings only (telemetry): no header table, `--version` or `-L`. */
  readingsOnly?: boolean;
}

async function runNvidiaSmi(args: readonly string[], options: NvidiaSmiOptions): Promise<NvidiaSmiRun> {
  const { execa } = await import('execa');
  const result = await execa(options.command ?? 'nvidia-smi', [...args], {
    reject: false,
    timeout: options.timeoutMs ?? 15_000,
    cancelSignal: options.signal,
    stdin: 'ignore',
    env: { LC_ALL: 'C' },
  });
  return {
    spawnError: typeof result.code === 'string' ? result.code : undefined,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
  };
}

const succeeded = (run: NvidiaSmiRun | undefined): run is NvidiaSmiRun => run !== undefined && !run.spawnError && run.exitCode === 0;

/**
 * Ask nvidia-smi for every GPU, its MIG instances and the driver/CUDA versions. No driver tools or no GPU is a normal
 * result; a broken driver throws ExternalError with a fix in its hint. The driver is asked which query fields it knows
 * (`--help-query-gpu`), and a field it still refuses is dropped and the query retried, so a field a driver renamed or
 * removed costs that value only.
 */
export async function queryNvidiaSmi(options: NvidiaSmiOptions = {}): Promise<NvidiaSmiResult> {
  const full = !options.readingsOnly;
  // The help listing and the header table are independent of the query: all start at once to keep detection quick.
  const [help, table] = await Promise.all([
    options.fields ? undefined : runNvidiaSmi(['--help-query-gpu'], options),
    full ? runNvidiaSmi([], options) : undefined,
  ]);
  const listed = succeeded(help) ? parseHelpQueryGpu(help.stdout) : new Set<string>();
  let fields = options.fields ? [...options.fields] : planQueryFields(listed.size > 0 ? listed : null);
  const unavailable = valuesNotAsked(fields);

  let query: NvidiaSmiRun;
  for (;;) {
    query = await runNvidiaSmi(queryArgs(fields), options);
    if (options.signal?.aborted) throw new CancelledError();
    const refused = query.exitCode !== 0 ? refusedQueryField(`${query.stdout}\n${query.stderr}`) : null;
    if (!refused || !isOptionalQueryField(refused) || !fields.includes(refused)) break;
    fields = fields.filter((name) => name !== refused);
    unavailable.push(refused);
  }
  if (query.spawnError || query.exitCode !== 0) {
    const diagnosis = diagnoseNvidiaSmiFailure(query);
    if (diagnosis.kind === 'missing') return { status: 'missing', message: diagnosis.message, hint: diagnosis.hint };
    if (diagnosis.kind === 'no-devices') return { status: 'no-devices', message: diagnosis.message };
    throw new ExternalError(diagnosis.message, {
      code: diagnosis.code,
      hint: diagnosis.hint,
      command: `nvidia-smi ${queryArgs(fields).join(' ')}`,
      stderr: `${query.stdout}\n${query.stderr}`.trim(),
    });
  }
  const gpus = parseNvidiaSmiCsv(query.stdout, fields);
  if (!full) return { status: 'ok', gpus, driver: gpus.find((g) => g.driver)?.driver ?? null, cuda: null, fields, unavailableFields: unavailable };

  // MIG instances are listed only by `-L`, their memory only by the header table's "MIG devices" part.
  const mig = gpus.some((gpu) => gpu.migMode === 'enabled') ? await runNvidiaSmi(['-L'], options) : undefined;
  if (succeeded(mig)) {
    const memory = succeeded(table) ? parseMigMemory(table.stdout) : new Map<string, number>();
    for (const listedGpu of parseNvidiaSmiList(mig.stdout)) {
      const gpu = gpus.find((g) => g.uuid === listedGpu.uuid) ?? gpus.find((g) => g.index === listedGpu.index);
      if (!gpu) continue;
      gpu.migDevices = listedGpu.migDevices.map((device) => ({ ...device, memoryMb: memory.get(`${gpu.index}/${device.index}`) ?? null }));
    }
  }
  let versions = succeeded(table) ? parseNvidiaSmiVersions(table.stdout) : { driver: null, cuda: null };
  if (!versions.cuda) {
    // A header without a CUDA version (a format iocli does not know yet): `--version` prints it on its own line.
    const version = await runNvidiaSmi(['--version'], options);
    if (succeeded(version)) {
      const parsed = parseNvidiaSmiVersions(version.stdout);
      versions = { driver: versions.driver ?? parsed.driver, cuda: parsed.cuda };
    }
  }
  return { status: 'ok', gpus, driver: gpus.find((g) => g.driver)?.driver ?? versions.driver, cuda: versions.cuda, fields, unavailableFields: unavailable };
}
