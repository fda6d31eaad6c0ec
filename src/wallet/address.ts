// Light address checks (no web3.js): a Solana address is 32 bytes in base58.
import bs58 from 'bs58';

export function isBase58Address(value: string): boolean {
  if (!/^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(value)) return false;
  try {
    return bs58.decode(value).length === 32;
  } catch {
    return false;
  }
}
