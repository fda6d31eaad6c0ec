// The one check for TCP port flags (`--port`, `--rpc-port`) of the commands that start servers.
import { UsageError } from '../src/errors.js';

/** A port number from 0 to 65535 (0 = a random free port); the error names the flag. */
export function parsePortFlag(flag: string, value: string | number): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`${flag} must be 0-65535 (0 = a random free port), got "${value}".`);
  }
  return port;
}
