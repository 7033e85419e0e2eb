import type { ReadConsistency } from '../domain/entries';
import { CacheError } from '../shared/errors';
import { json } from '../shared/http';
import { httpHandler } from '../shared/middleware';

/** `?consistency=strong` or `x-skycache-consistency: strong` reads the primary even when replicas serve reads. */
function readConsistency(query: (n: string) => string | undefined, header: (n: string) => string | undefined): ReadConsistency {
  const asked = query('consistency') ?? header('x-skycache-consistency');
  if (asked === undefined || asked === 'eventual') return 'eventual';
  if (asked === 'strong') return 'strong';
  throw new CacheError('BAD_REQUEST', `consistency must be "strong" or "eventual", not "${asked}"`);
}

/** GET /cache/{key} and GET /cache?key=… */
export const handler = httpHandler({
  handle: async ({ key, services, query, header }) => {
    const k = key();
    const entry = await services.entries.get(k, { consistency: readConsistency(query, header) });
    if (!entry) throw new CacheError('NOT_FOUND', `no entry for key "${k}"`);
    return json(200, entry);
  },
});
