// A bare process entry for the coordinator (crash tests, supervisors): options from argv JSON, prints the URL, exits on signals.
import { startCoordinator, type CoordinatorOptions } from './server.js';

const options = JSON.parse(process.argv[2] ?? '{}') as CoordinatorOptions;
const server = await startCoordinator(options);
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);
const shutdown = () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
