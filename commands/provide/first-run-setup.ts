// `iocli provide`'s first-run setup: which GPUs, what price, which region, and a wallet to be paid in. Flags win, then
// saved settings; what is still missing is asked on a terminal (and saved), defaulted with --yes, or a usage error.
import { UsageError } from '../../src/errors.js';
import type { ProviderPreflight } from '../../src/provider/preflight.js';
import type { GpuSelection, SimulatedGpuRequest } from '../../src/provider/options.js';
import type { Context } from '../context.js';

export interface Setup {
  selection: GpuSelection;
  pricePerGpuHour: number;
  region: string;
}

/**
 * Flags win, then saved settings. Anything still missing is asked on a TTY (and saved), taken from the defaults with
 * --yes, or else a usage error naming the flag.
 */
export async function resolveSetup(
  ctx: Context,
  preflight: ProviderPreflight,
  simulate: SimulatedGpuRequest | undefined,
  given: { selection?: GpuSelection; price?: number; region?: string },
): Promise<Setup> {
  const [{ parseGpuSelection, validateRegion, formatGpuSelection, suggestedPricePerGpuHour, guessRegion }, { parseTokenAmount, formatTokenAmount }, { isWholeGpu }] = await Promise.all([
    import('../../src/provider/options.js'),
    import('../../src/domain/money.js'),
    import('../../src/gpu/inventory.js'),
  ]);
  const settings = await ctx.settings();
  let selection = given.selection ?? (settings.shareGpus ? parseGpuSelection(settings.shareGpus, 'share-gpus setting') : undefined);
  let price = given.price ?? (settings.pricePerGpuHour ? parseTokenAmount(settings.pricePerGpuHour, { flag: 'price-per-gpu-hour setting', positive: true }) : undefined);
  let region = given.region ?? (settings.region ? validateRegion(settings.region, 'region setting') : undefined);

  // A MIG-enabled GPU is never offered whole: it is not a choice (preflight already said why).
  const detected = (preflight.inventory?.gpus ?? []).filter(isWholeGpu);
  const suggestion = () => suggestedPricePerGpuHour(simulate, detected);

  const missing = selection === undefined || price === undefined || region === undefined;
  if (!missing) return { selection: selection!, pricePerGpuHour: price!, region: region! };

  if (ctx.prompter.interactive && !ctx.globals.yes) {
    ctx.out.info('First-run setup (saved to your iocli config; change later with `iocli config set`).');
    await ensureWallet(ctx);
    if (selection === undefined) {
      if (simulate || detected.length <= 1) selection = 'all';
      else {
        const picked = await ctx.prompter.checkbox('Which GPUs do you want to share?', {
          flag: '--gpus',
          choices: detected.map((g) => ({ value: String(g.index), name: `#${g.index} ${g.model === 'unknown' ? g.name : g.model} (${g.uuid})`, checked: true })),
        });
        if (picked.length === 0) throw new UsageError('No GPU selected.', { hint: 'Select at least one GPU, or pass --gpus.' });
        selection = picked.length === detected.length ? 'all' : picked.map(Number).sort((a, b) => a - b);
      }
    }
    if (price === undefined) {
      const suggested = suggestion();
      const answer = await ctx.prompter.input(
        `Price per GPU-hour in tokens${suggested ? ` (catalogue suggestion ${formatTokenAmount(suggested)})` : ''}:`,
        {
          flag: '--price',
          default: suggested ? formatTokenAmount(suggested) : undefined,
          validate: (value) => {
            try {
              parseTokenAmount(value, { flag: '--price', positive: true });
              return true;
            } catch (error) {
              return (error as Error).message;
            }
          },
        },
      );
      price = parseTokenAmount(answer, { flag: '--price', positive: true });
    }
    if (region === undefined) {
      const answer = await ctx.prompter.input('Region label (lowercase, e.g. us-east, eu-west):', {
        flag: '--region',
        default: guessRegion(Intl.DateTimeFormat().resolvedOptions().timeZone ?? ''),
        validate: (value) => /^[a-z][a-z0-9-]{1,31}$/.test(value) || 'Use lowercase letters, digits and dashes, e.g. eu-west.',
      });
      region = validateRegion(answer);
    }
    const { openWritableStore } = await import('../../src/settings/store.js');
    const store = await openWritableStore(settings.configDir);
    store.set('shareGpus', formatGpuSelection(selection));
    store.set('pricePerGpuHour', formatTokenAmount(price));
    store.set('region', region);
    ctx.out.info(`Saved share-gpus, price-per-gpu-hour and region to ${store.path}.`);
    return { selection, pricePerGpuHour: price, region };
  }

  if (ctx.globals.yes) {
    const suggested = suggestion();
    if (price === undefined && suggested === undefined) {
      throw new UsageError('No price: this GPU model has no catalogue suggestion.', { hint: 'Pass --price TOKENS (per GPU-hour).' });
    }
    return { selection: selection ?? 'all', pricePerGpuHour: price ?? suggested!, region: region ?? 'local' };
  }
  const flag = selection === undefined ? '--gpus' : price === undefined ? '--price' : '--region';
  throw new UsageError(`Missing ${flag}: not running interactively, so the first-run setup cannot ask.`, {
    hint: `Pass ${flag} (or all of --gpus, --price, --region), save them with \`iocli config set\`, or add --yes to accept the defaults.`,
  });
}

async function ensureWallet(ctx: Context): Promise<void> {
  const { existsSync } = await import('node:fs');
  const path = await ctx.keypairPath();
  if (existsSync(path)) return;
  const create = await ctx.prompter.confirm(`No wallet at ${path}. Create one now (earnings are paid to it)?`, { flag: '--keypair', default: true });
  if (!create) throw new UsageError('A wallet is needed to register a node.', { hint: 'Create one with `iocli wallet new`, or pass --keypair PATH.' });
  const { generateKeypair, writeKeypairFile } = await import('../../src/wallet/keypair.js');
  const keypair = generateKeypair();
  await writeKeypairFile(path, keypair);
  ctx.out.info(`Created wallet ${keypair.publicKey} at ${path} (back this file up).`);
}

