// The GPU catalogue: maps the model names drivers report to stable catalogue ids, specs and suggested prices. Pure.

export type GpuClass = 'datacenter' | 'workstation' | 'consumer';

export interface GpuCatalogueEntry {
  /** Stable id used in offers and filters, e.g. 'H100-SXM-80GB'. */
  id: string;
  name: string;
  vramGb: number;
  /**
   * Dense (no sparsity) FP16 tensor TFLOPS from the vendor datasheet/whitepaper. Where the vendor gives two figures
   * (GeForce cards run FP16 with FP32 accumulate at half rate) this is the FP32-accumulate one, which is what training uses.
   */
  fp16Tflops: number;
  class: GpuClass;
  /** Token base units (6 decimals) per GPU-hour; a starting point for providers, not a rule. */
  suggestedPricePerGpuHour: number;
}

/** A model the catalogue does not know: kept with the name the driver reported so it can still be listed and filtered. */
export interface UnknownGpuModel {
  id: 'unknown';
  name: string;
  rawName: string;
  class: 'unknown';
  vramGb: number | null;
  fp16Tflops: null;
  suggestedPricePerGpuHour: null;
}

export type GpuModel = GpuCatalogueEntry | UnknownGpuModel;

const TOKEN = 1_000_000;
const price = (tokens: number): number => Math.round(tokens * TOKEN);

const entry = (id: string, name: string, vramGb: number, fp16Tflops: number, cls: GpuClass, pricePerHour: number): GpuCatalogueEntry =>
  Object.freeze({ id, name, vramGb, fp16Tflops, class: cls, suggestedPricePerGpuHour: price(pricePerHour) });

/** Every known model, by id. */
export const GPU_CATALOGUE: readonly GpuCatalogueEntry[] = Object.freeze([
  entry('B200-SXM-180GB', 'NVIDIA B200', 180, 2250, 'datacenter', 4.0),
  entry('H200-SXM-141GB', 'NVIDIA H200 SXM 141GB', 141, 989.4, 'datacenter', 2.5),
  entry('H200-NVL-141GB', 'NVIDIA H200 NVL 141GB', 141, 835.5, 'datacenter', 2.3),
  entry('H100-SXM-80GB', 'NVIDIA H100 SXM5 80GB', 80, 989.4, 'datacenter', 2.0),
  entry('H100-NVL-94GB', 'NVIDIA H100 NVL 94GB', 94, 835.5, 'datacenter', 1.9),
  entry('H100-PCIE-80GB', 'NVIDIA H100 PCIe 80GB', 80, 756.5, 'datacenter', 1.8),
  entry('A100-SXM-80GB', 'NVIDIA A100 SXM4 80GB', 80, 312, 'datacenter', 1.2),
  entry('A100-SXM-40GB', 'NVIDIA A100 SXM4 40GB', 40, 312, 'datacenter', 1.0),
  entry('A100-PCIE-80GB', 'NVIDIA A100 PCIe 80GB', 80, 312, 'datacenter', 1.1),
  entry('A100-PCIE-40GB', 'NVIDIA A100 PCIe 40GB', 40, 312, 'datacenter', 0.9),
  entry('L40S-48GB', 'NVIDIA L40S', 48, 362.05, 'datacenter', 0.8),
  entry('L40-48GB', 'NVIDIA L40', 48, 181.05, 'datacenter', 0.7),
  entry('A40-48GB', 'NVIDIA A40', 48, 149.7, 'datacenter', 0.4),
  entry('L4-24GB', 'NVIDIA L4', 24, 121, 'datacenter', 0.35),
  entry('A10-24GB', 'NVIDIA A10', 24, 125, 'datacenter', 0.3),
  entry('T4-16GB', 'NVIDIA T4', 16, 65, 'datacenter', 0.15),
  entry('V100-SXM-32GB', 'NVIDIA V100 SXM2 32GB', 32, 125, 'datacenter', 0.3),
  entry('V100-SXM-16GB', 'NVIDIA V100 SXM2 16GB', 16, 125, 'datacenter', 0.25),
  entry('V100S-PCIE-32GB', 'NVIDIA V100S PCIe 32GB', 32, 130, 'datacenter', 0.28),
  entry('V100-PCIE-32GB', 'NVIDIA V100 PCIe 32GB', 32, 112, 'datacenter', 0.27),
  entry('V100-PCIE-16GB', 'NVIDIA V100 PCIe 16GB', 16, 112, 'datacenter', 0.22),
  entry('RTX6000ADA-48GB', 'NVIDIA RTX 6000 Ada Generation', 48, 364.2, 'workstation', 0.75),
  entry('RTXA6000-48GB', 'NVIDIA RTX A6000', 48, 154.8, 'workstation', 0.45),
  entry('RTXA5000-24GB', 'NVIDIA RTX A5000', 24, 111.1, 'workstation', 0.25),
  entry('RTXA4000-16GB', 'NVIDIA RTX A4000', 16, 76.7, 'workstation', 0.17),
  entry('RTX5090-32GB', 'NVIDIA GeForce RTX 5090', 32, 209.5, 'consumer', 0.7),
  entry('RTX4090-24GB', 'NVIDIA GeForce RTX 4090', 24, 165.2, 'consumer', 0.4),
  entry('RTX4080-16GB', 'NVIDIA GeForce RTX 4080', 16, 97.5, 'consumer', 0.25),
  entry('RTX3090TI-24GB', 'NVIDIA GeForce RTX 3090 Ti', 24, 40, 'consumer', 0.22),
  entry('RTX3090-24GB', 'NVIDIA GeForce RTX 3090', 24, 35.6, 'consumer', 0.2),
]);

// Read-only lookup data derived from the constant table (not state).
const BY_ID: ReadonlyMap<string, GpuCatalogueEntry> = new Map(GPU_CATALOGUE.map((e) => [e.id, e]));

/** Upper-case, drop vendor/brand words, turn separators into single spaces: "NVIDIA A100-SXM4-80GB" → "A100 SXM4 80GB". */
export function canonicalGpuName(raw: string): string {
  return raw
    .toUpperCase()
    .replace(/\[|\]|\(R\)|\(TM\)/g, ' ')
    .replace(/[-_/,]/g, ' ')
    .replace(/\b(NVIDIA|TESLA|GEFORCE|CORPORATION|GRAPHICS)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Memory size written into a name ("80GB", "40 GB"), if any. */
function nameGb(name: string): number | undefined {
  const match = /\b(\d{2,3}) ?GB\b/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/**
 * Ordered rules, most specific first. Each gets the canonical name and the reported memory (GB, rounded) when known,
 * and returns a catalogue id or undefined. Laptop/mobile parts share desktop names but not their specs: never matched.
 */
type Rule = (name: string, gb: number | undefined) => string | undefined;
const RULES: readonly Rule[] = [
  (n) => (/\b(LAPTOP|MOBILE|MAX Q)\b/.test(n) ? 'unknown' : undefined),
  (n) => (/\bB200\b/.test(n) ? 'B200-SXM-180GB' : undefined),
  (n) => (/\bH200\b/.test(n) ? (/\bNVL\b/.test(n) ? 'H200-NVL-141GB' : 'H200-SXM-141GB') : undefined),
  (n) => {
    if (!/\bH100\b/.test(n)) return undefined;
    if (/\bNVL\b/.test(n)) return 'H100-NVL-94GB';
    return /\bPCIE\b/.test(n) ? 'H100-PCIE-80GB' : 'H100-SXM-80GB';
  },
  (n, gb) => {
    if (!/\bA100\b/.test(n)) return undefined;
    const size = (nameGb(n) ?? gb ?? 40) >= 60 ? '80GB' : '40GB';
    return `A100-${/\bPCIE\b/.test(n) ? 'PCIE' : 'SXM'}-${size}`;
  },
  (n) => (/\bL40S\b/.test(n) ? 'L40S-48GB' : undefined),
  (n) => (/\bL40\b/.test(n) ? 'L40-48GB' : undefined),
  (n) => (/\bA40\b/.test(n) ? 'A40-48GB' : undefined),
  (n) => (/\bL4\b/.test(n) ? 'L4-24GB' : undefined),
  (n) => (/\bA10\b/.test(n) ? 'A10-24GB' : undefined),
  (n) => (/\bT4\b/.test(n) ? 'T4-16GB' : undefined),
  (n, gb) => {
    if (/\bV100S\b/.test(n)) return 'V100S-PCIE-32GB';
    if (!/\bV100\b/.test(n)) return undefined;
    const size = (nameGb(n) ?? gb ?? 16) >= 24 ? '32GB' : '16GB';
    return `V100-${/\bPCIE\b/.test(n) ? 'PCIE' : 'SXM'}-${size}`;
  },
  (n) => (/\bRTX 6000 ADA\b/.test(n) ? 'RTX6000ADA-48GB' : undefined),
  (n) => (/\bRTX A6000\b/.test(n) ? 'RTXA6000-48GB' : undefined),
  (n) => (/\bRTX A5000\b/.test(n) ? 'RTXA5000-24GB' : undefined),
  (n) => (/\bRTX A4000\b/.test(n) ? 'RTXA4000-16GB' : undefined),
  // "4090 D" (a cut-down export part) and "4080 SUPER" differ from the base model: left unknown.
  (n) => (/\bRTX 5090\b/.test(n) ? 'RTX5090-32GB' : undefined),
  (n) => (/\bRTX 4090\b(?! D\b)/.test(n) ? 'RTX4090-24GB' : undefined),
  (n) => (/\bRTX 4080\b(?! SUPER\b)/.test(n) ? 'RTX4080-16GB' : undefined),
  (n) => (/\bRTX 3090 TI\b/.test(n) ? 'RTX3090TI-24GB' : undefined),
  (n) => (/\bRTX 3090\b/.test(n) ? 'RTX3090-24GB' : undefined),
];

/**
 * The catalogue entry for a reported model name (nvidia-smi or lspci wording), or an 'unknown' entry carrying the raw name.
 * `vramMb` (as nvidia-smi reports memory.total) tells apart variants whose name omits the size.
 */
export function resolveGpuModel(rawName: string, vramMb?: number | null): GpuModel {
  const canonical = canonicalGpuName(rawName);
  const gb = vramMb ? Math.round(vramMb / 1024) : undefined;
  for (const rule of RULES) {
    const id = rule(canonical, gb);
    if (id === 'unknown') break;
    if (id) return BY_ID.get(id)!;
  }
  const name = rawName.trim();
  return { id: 'unknown', name, rawName: name, class: 'unknown', vramGb: gb ?? null, fp16Tflops: null, suggestedPricePerGpuHour: null };
}

export function getGpuCatalogueEntry(id: string): GpuCatalogueEntry | undefined {
  return BY_ID.get(id.toUpperCase());
}

export function isKnownGpuModel(model: GpuModel): model is GpuCatalogueEntry {
  return model.id !== 'unknown';
}

const compact = (text: string): string => text.toUpperCase().replace(/[^A-Z0-9]/g, '');
const filterTokens = (text: string): string[] => text.toUpperCase().split(/[\s\-_/,]+/).filter(Boolean);

/** Words a user may type for an entry: the id's parts, plus the bare number/family for branded cards ("4090", "A6000"). */
function matchTokens(model: GpuCatalogueEntry): ReadonlySet<string> {
  const tokens = new Set(model.id.split('-'));
  const family = model.id.split('-')[0]!;
  if (family.startsWith('RTX')) {
    tokens.add('RTX');
    tokens.add(family.slice(3));
  }
  return tokens;
}
const TOKENS: ReadonlyMap<string, ReadonlySet<string>> = new Map(GPU_CATALOGUE.map((e) => [e.id, matchTokens(e)]));

/**
 * A predicate for what a user typed after --model: a full id ("H100-SXM-80GB"), any words of an id in any order ("h100",
 * "h100-sxm", "a100 80gb"), the bare number of a branded card ("4090"), or a full reported name ("NVIDIA GeForce RTX 4090").
 * Case and separators do not matter; "3090" does not match a 3090 Ti. An empty filter matches everything.
 * Compile once when filtering many GPUs.
 */
export function compileModelFilter(filter: string): (model: GpuModel) => boolean {
  const wanted = compact(filter);
  if (!wanted) return () => true;
  const words = filterTokens(filter);
  // A pasted reported name ("NVIDIA H100 80GB HBM3") resolves to exactly one entry.
  const resolvedId = words.length > 1 ? resolveGpuModel(filter).id : 'unknown';
  return (model) => {
    if (!isKnownGpuModel(model)) return compact(model.rawName).includes(wanted);
    if (compact(model.id) === wanted || model.id === resolvedId) return true;
    const tokens = TOKENS.get(model.id) ?? matchTokens(model);
    return words.every((word) => tokens.has(word));
  };
}

export function matchesModelFilter(model: GpuModel, filter: string): boolean {
  return compileModelFilter(filter)(model);
}
