import { CacheError } from '../shared/errors';
import { json } from '../shared/http';
import { httpHandler } from '../shared/middleware';

/** GET /cache/{key} and GET /cache?key=… */
export const handler = httpHandler({
  handle: async ({ key, services }) => {
    const k = key();
    const entry = await services.entries.get(k);
    if (!entry) throw new CacheError('NOT_FOUND', `no entry for key "${k}"`);
    return json(200, entry);
  },
});
