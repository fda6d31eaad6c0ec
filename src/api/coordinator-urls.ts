// The coordinator URL setting holds one URL or several, comma-separated, for failover (README: Several coordinator
// replicas). Kept apart from the API client so commands that need only the URL do not load the client.
import { UserError } from '../errors.js';

/** The configured coordinator URLs in order, without trailing slashes; at least one. */
export function coordinatorUrls(spec: string): string[] {
  const urls = spec
    .split(',')
    .map((part) => part.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  if (urls.length === 0) throw new UserError('No coordinator URL given.', { code: 'USAGE', hint: 'Pass --api-url URL (several, comma-separated, for failover).' });
  return urls;
}
