// Which browser pages may call the local chain's RPC: loopback ones always (a wallet or explorer run on the same
// machine), others only when listed. A dev chain holds faucet money and answers anything; a random web page the user
// visits must not be able to drive it.

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether a browser page from `origin` may call the RPC: loopback pages always, others only when listed. */
export function isAllowedOrigin(origin: string, extra: string[] | '*'): boolean {
  if (extra === '*' || extra.includes(origin)) return true;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_HOSTS.has(url.hostname);
  } catch {
    return false;
  }
}
