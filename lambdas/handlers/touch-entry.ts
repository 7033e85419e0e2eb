import { CacheError } from '../shared/errors';
import { json } from '../shared/http';
import { httpHandler } from '../shared/middleware';
import { touchEntryBody } from '../shared/schemas';

/** PUT /cache/{key}/ttl {"ttl": n}: the key now expires n seconds from now; value and version unchanged. */
export const handler = httpHandler({
  body: touchEntryBody,
  handle: async ({ key, body, services }) => {
    const k = key();
    const info = await services.entries.touch(k, body.ttl);
    if (!info) throw new CacheError('NOT_FOUND', `no entry for key "${k}"`);
    return json(200, info);
  },
});
