import type { TtlInfo } from '../domain/entries';
import { CacheError } from '../core/errors';
import { json } from '../http/results';
import { routedHandler, type Operation, type RouteRequest } from '../http/middleware';
import { entryTtlRoutes } from '../routes';
import { provideStores } from '../services';
import { entryStore } from '../stores/entries';

/** Answers the key's TTL after `change`, or 404 when there is no such key. */
function ttlOperation<B>(change: (request: RouteRequest<B>, key: string) => Promise<TtlInfo | null>): Operation<B> {
  return {
    handle: async (request) => {
      const k = request.key();
      const info = await change(request, k);
      if (!info) throw new CacheError('NOT_FOUND', `no entry for key "${k}"`);
      return json(200, info);
    },
  };
}

/** The remaining TTL in seconds (null: never expires); works on keys of every type. */
const read = ttlOperation(({ services }, k) => services.entries.ttl(k));
/** {"ttl": n}: the key now expires n seconds from now; value and version unchanged. */
const touch = ttlOperation<{ ttl: number }>(({ services, body }, k) => services.entries.touch(k, body.ttl));
/** The key no longer expires (it stays until deleted, invalidated or evicted). */
const persist = ttlOperation(({ services }, k) => services.entries.persist(k));

provideStores(entryStore);

/** GET, PUT and DELETE on /cache/{key}/ttl and /cache/ttl?key=: TTL control for keys of every type. */
export const handler = routedHandler({
  getEntryTtl: read,
  touchEntry: touch,
  persistEntry: persist,
  getEntryTtlByQuery: read,
  touchEntryByQuery: touch,
  persistEntryByQuery: persist,
}, entryTtlRoutes);
