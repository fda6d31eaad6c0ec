// Where settings live on disk. Writes go through conf (atomic writes, one JSON file); reads parse that same
// file directly, because importing conf costs ~120 ms and `iocli config list`/every command only needs a read.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { StoredSettings } from './keys.js';

const CONFIG_FILE = 'config.json';

/** IOCLI_CONFIG_DIR, else the platform config folder (XDG on Linux) + /iocli. */
export function configDirectory(env: Record<string, string | undefined> = process.env): string {
  if (env.IOCLI_CONFIG_DIR) return env.IOCLI_CONFIG_DIR;
  if (process.platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'iocli');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Preferences', 'iocli');
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'iocli');
}

export function readStoredSettings(configDir: string): StoredSettings {
  const path = join(configDir, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UserError(`Cannot read the config file ${path}: ${(error as Error).message}`, { hint: 'Check its permissions.' });
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as StoredSettings;
  } catch {
    throw new UserError(`The config file ${path} is not valid JSON.`, { hint: 'Fix it by hand or run `iocli config reset`.', code: 'CONFIG_INVALID' });
  }
}

export interface WritableSettingsStore {
  get(path: string): unknown;
  set(path: string, value: unknown): void;
  delete(path: string): void;
  clear(): void;
  readonly path: string;
}

export async function openWritableStore(configDir: string): Promise<WritableSettingsStore> {
  const { default: Conf } = await import('conf');
  const conf = new Conf<Record<string, unknown>>({ projectName: 'iocli', cwd: configDir, configName: 'config', accessPropertiesByDotNotation: true });
  return {
    get: (path) => conf.get(path),
    set: (path, value) => conf.set(path, value),
    delete: (path) => conf.delete(path),
    clear: () => conf.clear(),
    path: conf.path,
  };
}
