import { CacheError } from '../shared/errors';
import { json } from '../shared/http';
import { httpHandler } from '../shared/middleware';

/** DELETE /cache/{key}/ttl: the key no longer expires (it stays until deleted, invalidated or evicted). */
export const handler = httpHandler({
  handle: async ({ key, services }) => {
    const k = key();
    const info = await services.entries.persist(k);
    if (!info) throw new CacheError('NOT_FOUND', `no entry for key "${k}"`);
    return json(200, info);
  },
});
