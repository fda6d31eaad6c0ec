// Turns the lines `docker pull` prints into progress events (layers done, bytes) for a progress bar.

export type PullPhase = 'resolving' | 'downloading' | 'extracting' | 'done';

export interface PullProgress {
  phase: PullPhase;
  /** Layers seen so far (docker announces them before downloading). */
  layersTotal: number;
  /** Layers pulled or already present. */
  layersDone: number;
  /** Sum over layers whose size docker has reported; 0 when docker prints no byte counts (not a TTY). */
  bytesDone: number;
  bytesTotal: number;
  /** The line this event came from, trimmed. */
  line: string;
  /** The layer the line was about, if any. */
  layer?: string;
  /** The manifest digest, once docker printed it. */
  digest?: string;
  /** True once docker said the image was already up to date. */
  upToDate: boolean;
}

interface LayerState {
  status: string;
  current: number;
  total: number;
  done: boolean;
}

const UNIT: Record<string, number> = { B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** Parses docker's human sizes (`1.2MB`, `512B`, `3.4 kB`): docker uses powers of 1000. */
export function parseDockerSize(text: string): number | undefined {
  const match = /^([0-9]+(?:\.[0-9]+)?)\s*(B|kB|KB|MB|GB|TB|KiB|MiB|GiB)$/.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT[match[2]!]!);
}

const LAYER_LINE = /^([a-f0-9]{12,64}): (.+)$/;
const BYTES = /([0-9.]+\s*[kKMGT]?i?B)\s*\/\s*([0-9.]+\s*[kKMGT]?i?B)/;

/** A stateful parser: feed it lines in order, it returns the progress after each (undefined for blank lines). */
export function createPullProgressParser(): { push(line: string): PullProgress | undefined } {
  const layers = new Map<string, LayerState>();
  let phase: PullPhase = 'resolving';
  let digest: string | undefined;
  let upToDate = false;

  function snapshot(line: string, layer?: string): PullProgress {
    let layersDone = 0;
    let bytesDone = 0;
    let bytesTotal = 0;
    for (const state of layers.values()) {
      if (state.done) layersDone += 1;
      bytesTotal += state.total;
      bytesDone += state.done ? state.total : state.current;
    }
    return { phase, layersTotal: layers.size, layersDone, bytesDone, bytesTotal, line, layer, digest, upToDate };
  }

  function push(raw: string): PullProgress | undefined {
    // A TTY redraws with \r and escape codes; keep only the last visible state of the line.
    // eslint-disable-next-line no-control-regex
    const line = (raw.split('\r').at(-1) ?? '').replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').trim();
    if (line.length === 0) return undefined;

    const layerMatch = LAYER_LINE.exec(line);
    if (layerMatch) {
      const id = layerMatch[1]!;
      const status = layerMatch[2]!;
      const state = layers.get(id) ?? { status, current: 0, total: 0, done: false };
      layers.set(id, state);
      state.status = status;
      const bytes = BYTES.exec(status);
      if (bytes) {
        state.current = parseDockerSize(bytes[1]!) ?? state.current;
        state.total = parseDockerSize(bytes[2]!) ?? state.total;
      }
      if (/^(Pull complete|Already exists)/.test(status)) {
        state.done = true;
        if (state.total > 0) state.current = state.total;
      } else if (/^Extracting/.test(status)) {
        phase = 'extracting';
      } else if (/^(Downloading|Waiting|Pulling fs layer|Verifying Checksum|Download complete)/.test(status) && phase === 'resolving') {
        phase = 'downloading';
      }
      return snapshot(line, id);
    }

    const digestMatch = /^Digest: (sha256:[a-f0-9]{64})/.exec(line);
    if (digestMatch) digest = digestMatch[1];
    if (/^Status: /.test(line)) {
      phase = 'done';
      upToDate = /up to date/i.test(line);
    }
    return snapshot(line);
  }

  return { push };
}
