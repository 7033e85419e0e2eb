import { entryJson, type ReadConsistency } from '../domain/entries';
import { CacheError } from '../core/errors';
import { etagOf, noneMatchHits } from '../http/etag';
import { json } from '../http/results';
import { routedHandler, type Operation } from '../http/middleware';
import { getEntryRoutes } from '../routes';
import { provideStores } from '../services';
import { entryStore } from '../stores/entries';

/** `?consistency=strong` or `x-skycache-consistency: strong` reads the primary even when replicas serve reads. */
function readConsistency(query: (n: string) => string | undefined, header: (n: string) => string | undefined): ReadConsistency {
  const inQuery = query('consistency');
  const asked = inQuery ?? header('x-skycache-consistency');
  if (asked === undefined || asked === 'eventual') return 'eventual';
  if (asked === 'strong') return 'strong';
  // A query parameter's problem is VALIDATION_FAILED, a header's BAD_REQUEST (docs/api.md, "Errors").
  if (inQuery !== undefined) throw new CacheError('VALIDATION_FAILED', `consistency: must be "strong" or "eventual", not "${asked}"`);
  throw new CacheError('BAD_REQUEST', `x-skycache-consistency must be "strong" or "eventual", not "${asked}"`);
}

/** GET /cache/{key} and GET /cache?key=… (optionally ?touch=<seconds> or ?sliding=true; If-None-Match → 304) */
const read: Operation<undefined> = {
  handle: async ({ key, query, header, services }) => {
    const k = key();
    const touch = query('touch');
    const sliding = query('sliding');
    let touchTtlSeconds: number | undefined;
    if (touch !== undefined) {
      const max = services.config.maxTtlSeconds;
      if (!/^\d{1,10}$/.test(touch) || Number(touch) < 1 || Number(touch) > max) {
        throw new CacheError('VALIDATION_FAILED', `touch: must be a whole number of seconds from 1 to ${max}, not "${touch}"`);
      }
      touchTtlSeconds = Number(touch);
    }
    if (sliding !== undefined && sliding !== 'true' && sliding !== 'false') {
      throw new CacheError('VALIDATION_FAILED', `sliding: must be "true" or "false", not "${sliding}"`);
    }
    if (touchTtlSeconds !== undefined && sliding === 'true') {
      throw new CacheError('VALIDATION_FAILED', 'give "touch" or "sliding", not both');
    }
    const ifNoneMatch = header('if-none-match');
    const entry = await services.entries.get(k, {
      touchTtlSeconds,
      sliding: sliding === 'true',
      consistency: readConsistency(query, header),
    });
    services.countRead('entries', !!entry);
    if (!entry) throw new CacheError('NOT_FOUND', `no entry for key "${k}"`);
    const etag = { etag: etagOf(entry.version) };
    if (ifNoneMatch !== undefined && noneMatchHits(ifNoneMatch, entry.version)) return json(304, undefined, etag);
    return json(200, entryJson(entry), etag);
  },
};

provideStores(entryStore);

export const handler = routedHandler({ getEntry: read, getEntryByQuery: read }, getEntryRoutes);
