// Built-in network profiles: where the coordinator API and the Solana RPC live for each network.

export const PROFILE_NAMES = ['local', 'devnet', 'mainnet-beta'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export interface ProfileDefaults {
  apiUrl?: string;
  rpcUrl: string;
}

/** Ports match `iocli network up` defaults, so a fresh install talks to the local network. */
export const LOCAL_API_PORT = 8787;
export const LOCAL_RPC_PORT = 8899;

export const PROFILE_DEFAULTS: Record<ProfileName, ProfileDefaults> = {
  local: { apiUrl: `http://127.0.0.1:${LOCAL_API_PORT}`, rpcUrl: `http://127.0.0.1:${LOCAL_RPC_PORT}` },
  // No public coordinator is operated for these yet: users point api-url at one (`iocli config set api-url …`).
  devnet: { rpcUrl: 'https://api.devnet.solana.com' },
  'mainnet-beta': { rpcUrl: 'https://api.mainnet-beta.solana.com' },
};

export function isProfileName(value: string): value is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(value);
}
