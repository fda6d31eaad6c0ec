// What every command receives: output, prompts, settings, wallet and API access, the container runtime and the clock,
// built once from the global flags. Everything behind a function is created on first use.
import type { ContainerRuntime } from '../src/docker/runtime.js';
import type { Keypair } from '../src/wallet/keypair.js';
import type { EffectiveSettings } from '../src/settings/resolve.js';
import { Output } from './output.js';
import { createPrompter, type Prompter } from './prompts.js';

export interface GlobalOptions {
  json: boolean;
  yes: boolean;
  quiet: boolean;
  color: boolean;
  profile?: string;
  apiUrl?: string;
  keypair?: string;
  url?: string;
}

export interface Context {
  globals: GlobalOptions;
  out: Output;
  prompter: Prompter;
  env: Record<string, string | undefined>;
  /** Aborted on Ctrl-C / SIGTERM: long operations stop and clean up. */
  signal: AbortSignal;
  /** Effective settings (defaults < profile < config file < env < flags). */
  settings(): Promise<EffectiveSettings>;
  /** The keypair path in force: flag/env/config, else the default location. */
  keypairPath(): Promise<string>;
  keypair(): Promise<Keypair>;
  /** The coordinator API client, signing with the wallet when one exists; `validateResponses` for long-running clients (the agent). */
  api(options?: { signed?: boolean; validateResponses?: boolean }): Promise<import('../src/api/client.js').ApiClient>;
  /** The configured coordinator URL(s) (comma-separated for failover), without loading the client. */
  apiUrl(): Promise<string>;
  /**
   * The network every command uses (src/renter/network.ts), asked of the coordinator once per run. With `required`, an
   * unreachable coordinator is an error (paying needs its mint and treasury); otherwise the fallbacks are in force.
   */
  network(options?: { required?: boolean }): Promise<import('../src/renter/network.js').RenterNetwork>;
  /**
   * The container runtime (Docker via execa), created on first use; with `nodeId` it may touch that node's lease
   * containers (and only those), without it only image and daemon calls.
   */
  containers(options?: { nodeId?: string }): Promise<ContainerRuntime>;
  /** Milliseconds since the epoch: the one clock commands read (time left, waiting, progress), so tests can set it. */
  now(): number;
}

export interface ContextIO {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdinIsTTY: boolean;
  env: Record<string, string | undefined>;
  signal: AbortSignal;
  /** The clock; Date.now unless a test fixes the time. */
  now?: () => number;
}

export function createContext(globals: GlobalOptions, io: ContextIO): Context {
  const colorAllowed = globals.color && !io.env.NO_COLOR && Boolean(io.stdout.isTTY) && io.env.TERM !== 'dumb';
  const out = new Output({ json: globals.json, quiet: globals.quiet, color: colorAllowed, stdout: io.stdout, stderr: io.stderr });
  const interactive = io.stdinIsTTY && Boolean(io.stdout.isTTY) && !globals.json && !io.env.CI;

  let settingsPromise: Promise<EffectiveSettings> | undefined;
  const settings = () =>
    (settingsPromise ??= (async () => {
      const { configDirectory, readStoredSettings } = await import('../src/settings/store.js');
      const { resolveSettings } = await import('../src/settings/resolve.js');
      const configDir = configDirectory(io.env);
      return resolveSettings({
        stored: readStoredSettings(configDir),
        env: io.env,
        flags: { profile: globals.profile, apiUrl: globals.apiUrl, rpcUrl: globals.url, keypair: globals.keypair },
        configDir,
      });
    })());

  const keypairPath = async () => {
    const { defaultKeypairPath, expandHome } = await import('../src/wallet/keypair.js');
    const effective = await settings();
    return effective.keypair ? expandHome(effective.keypair) : defaultKeypairPath(effective.configDir);
  };

  let keypairPromise: Promise<Keypair> | undefined;
  const keypair = () =>
    (keypairPromise ??= (async () => {
      const { loadKeypairFile } = await import('../src/wallet/keypair.js');
      return loadKeypairFile(await keypairPath());
    })());

  const apiUrl = async () => {
    const effective = await settings();
    if (!effective.apiUrl) {
      const { UserError } = await import('../src/errors.js');
      throw new UserError(`No coordinator API URL is configured for profile "${effective.profile}".`, {
        hint: 'Set one with `iocli config set api-url URL`, pass --api-url, or use the local network: `iocli network up`.',
      });
    }
    return effective.apiUrl;
  };

  let networkPromise: Promise<import('../src/renter/network.js').RenterNetwork> | undefined;
  const network = async ({ required = false } = {}) => {
    networkPromise ??= (async () => {
      const { learnRenterNetwork } = await import('../src/renter/network.js');
      return learnRenterNetwork(await settings(), () => context.api({ signed: false }));
    })();
    const learned = await networkPromise;
    if (required && learned.unreachable !== undefined) throw learned.unreachable;
    return learned;
  };

  const runtimes = new Map<string, Promise<ContainerRuntime>>();
  const containers = ({ nodeId }: { nodeId?: string } = {}) => {
    const key = nodeId ?? '';
    let runtime = runtimes.get(key);
    if (!runtime) {
      runtime = import('../src/docker/runtime.js').then(({ createDockerRuntime }) => createDockerRuntime({ nodeId }));
      runtimes.set(key, runtime);
    }
    return runtime;
  };

  const context: Context = {
    globals,
    out,
    prompter: createPrompter(interactive),
    env: io.env,
    signal: io.signal,
    settings,
    keypairPath,
    keypair,
    network,
    apiUrl,
    containers,
    now: io.now ?? Date.now,
    async api({ signed = true, validateResponses = false } = {}) {
      const [baseUrl, { createApiClient }] = await Promise.all([apiUrl(), import('../src/api/client.js')]);
      return createApiClient({ baseUrl, keypair: signed ? await keypair() : undefined, validateResponses });
    },
  };
  return context;
}
