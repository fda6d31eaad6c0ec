// The lease id every `iocli lease …` verb takes, checked before any network call.
import { UsageError } from '../../src/errors.js';

export function requireLeaseId(id: string | undefined): string {
  if (!id || !/^[A-Za-z0-9_.:-]{1,100}$/.test(id)) throw new UsageError(`Invalid lease id "${id ?? ''}".`, { hint: 'List your leases with `iocli leases`.' });
  return id;
}
