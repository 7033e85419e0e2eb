import { CacheError } from '../core/errors';
import { etagOf } from '../http/etag';
import { json } from '../http/results';
import { routedHandler } from '../http/middleware';
import { countersRoutes } from '../routes';
import { provideStores } from '../services';
import { entryStore, counterStore } from '../stores/entries';

provideStores(entryStore, counterStore);

/** POST, GET and DELETE /counters/{key}: counters are entries holding a JSON integer (see docs/data-structures.md). */
export const handler = routedHandler({
  incrementCounter: {
    handle: async ({ key, body, services }) => {
      const { created, ...result } = await services.counters.increment(key(), body.by ?? 1, body.ttl);
      return json(created ? 201 : 200, result, { etag: etagOf(result.version) });
    },
  },
  getCounter: {
    handle: async ({ key, services }) => {
      const k = key();
      const entry = await services.entries.get(k);
      services.countRead('counters', !!entry);
      if (!entry) throw new CacheError('NOT_FOUND', `no counter at key "${k}"`);
      if (!Number.isSafeInteger(entry.value)) {
        throw new CacheError('CONFLICT', `the entry "${k}" does not hold an integer, so it is not a counter`);
      }
      return json(200, entry, { etag: etagOf(entry.version) });
    },
  },
  deleteCounter: {
    handle: async ({ key, services }) => {
      const k = key();
      // One script: like every collection's DELETE, a key holding something else is refused, not removed.
      if (!(await services.counters.delete(k))) throw new CacheError('NOT_FOUND', `no counter at key "${k}"`);
      return json(204);
    },
  },
}, countersRoutes);
