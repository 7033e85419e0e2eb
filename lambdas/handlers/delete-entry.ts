import { CacheError } from '../shared/errors';
import { json } from '../shared/http';
import { httpHandler } from '../shared/middleware';

/** DELETE /cache/{key} and DELETE /cache?key=… */
export const handler = httpHandler({
  handle: async ({ key, services }) => {
    const k = key();
    if (!(await services.entries.delete(k))) throw new CacheError('NOT_FOUND', `no entry for key "${k}"`);
    return json(204);
  },
});
