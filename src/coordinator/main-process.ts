// A bare process entry for the coordinator (crash tests, supervisors): see process-entry.ts.
import { serveCoordinatorProcess } from './process-entry.js';

await serveCoordinatorProcess(process.argv[2]);
