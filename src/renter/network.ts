// One way for every command to learn the network: the coordinator announces its chain (RPC URL, mint, decimals); an
// explicit --url / IOCLI_RPC_URL overrides the RPC; the profile's RPC and the token's 6 decimals are the fallbacks when
// the coordinator cannot be asked. Airdrops, balances, payments and explorer links all use the same answer.
import type { NetworkInfo } from '../api/schemas/network.js';
import { TOKEN_DECIMALS } from '../domain/money.js';

export interface RenterNetwork {
  /** The chain every command talks to. */
  rpcUrl: string;
  /** Its WebSocket endpoint, by the Solana convention (RPC port + 1; same port for URLs without one). */
  wsUrl: string;
  /** Where rpcUrl came from: an explicit override, the coordinator's announcement, or the profile (coordinator unreachable). */
  rpcSource: 'override' | 'coordinator' | 'profile';
  /** The payment token; null when the coordinator takes no payments (or cannot be asked). */
  mint: string | null;
  decimals: number;
  /** The token's ticker, for display. */
  symbol?: string;
  /** Leases must be paid on chain (the coordinator names a mint). */
  paymentRequired: boolean;
  /** What GET /v1/network answered; undefined when the coordinator could not be asked. */
  coordinator?: NetworkInfo;
  /** Why the coordinator could not be asked (the fallbacks are in force). */
  unreachable?: unknown;
}

export interface NetworkSettings {
  rpcUrl: string;
  sources: { rpcUrl?: string };
}

/** ws(s)://host:(port + 1)/… for an http(s) RPC URL, as web3.js and the Solana CLI derive it. */
export function websocketUrlFor(rpcUrl: string): string {
  const url = new URL(rpcUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  if (url.port !== '') url.port = String(Number(url.port) + 1);
  return url.toString().replace(/\/$/, rpcUrl.endsWith('/') ? '/' : '');
}

/** The effective network from the coordinator's answer (or the error asking it) and the settings. Pure. */
export function resolveRenterNetwork(settings: NetworkSettings, answer: { info: NetworkInfo } | { error: unknown }): RenterNetwork {
  const override = settings.sources.rpcUrl === 'flag' || settings.sources.rpcUrl === 'env';
  const info = 'info' in answer ? answer.info : undefined;
  const rpcUrl = override || !info ? settings.rpcUrl : info.rpcUrl;
  return {
    rpcUrl,
    wsUrl: websocketUrlFor(rpcUrl),
    rpcSource: override ? 'override' : info ? 'coordinator' : 'profile',
    mint: info?.mint ?? null,
    decimals: info?.decimals ?? TOKEN_DECIMALS,
    ...(info?.symbol !== undefined ? { symbol: info.symbol } : {}),
    // The network takes payments when it names a mint; a dev coordinator without one accepts unpaid leases.
    paymentRequired: (info?.mint ?? null) !== null,
    ...(info ? { coordinator: info } : { unreachable: 'error' in answer ? answer.error : undefined }),
  };
}

/** Asks the coordinator once; never throws (an unreachable coordinator leaves the fallbacks in force). */
export async function learnRenterNetwork(
  settings: NetworkSettings,
  api: () => Promise<{ network(): Promise<NetworkInfo> }>,
): Promise<RenterNetwork> {
  try {
    return resolveRenterNetwork(settings, { info: await (await api()).network() });
  } catch (error) {
    return resolveRenterNetwork(settings, { error });
  }
}
