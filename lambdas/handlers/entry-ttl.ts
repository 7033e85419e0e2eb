import { CacheError } from '../shared/errors';
import { json } from '../shared/http';
import { httpHandler } from '../shared/middleware';

/** GET /cache/{key}/ttl: the remaining TTL in seconds (null: never expires); works on keys of every type. */
export const handler = httpHandler({
  handle: async ({ key, services }) => {
    const k = key();
    const info = await services.entries.ttl(k);
    if (!info) throw new CacheError('NOT_FOUND', `no entry for key "${k}"`);
    return json(200, info);
  },
});
