// Loopback ports for tests that must name a port before the process that listens on it starts.
import { createServer, type AddressInfo } from 'node:net';

/** A TCP port free on 127.0.0.1 a moment ago (the OS picked it); the caller binds it soon after. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
