import { CacheError } from '../core/errors';
import { ifMatchCondition, NO_VERSION, preconditionFailed } from '../http/etag';
import { json } from '../http/results';
import { routedHandler, type Operation } from '../http/middleware';
import { deleteEntryRoutes } from '../routes';
import { provideStores } from '../services';
import { entryStore } from '../stores/entries';

/** DELETE /cache/{key} and DELETE /cache?key=… (If-Match: "<version>" or * → 412 on mismatch) */
const remove: Operation<undefined> = {
  handle: async ({ key, header, services }) => {
    const k = key();
    const ifMatch = header('if-match');
    const wanted = ifMatch === undefined ? undefined : ifMatchCondition(ifMatch);
    let deleted: boolean;
    try {
      deleted = await services.entries.delete(k, { ifVersion: wanted === null ? NO_VERSION : wanted });
    } catch (e) {
      if (ifMatch !== undefined && e instanceof CacheError && e.details) throw preconditionFailed(e, ifMatch, wanted);
      throw e;
    }
    if (!deleted) throw new CacheError('NOT_FOUND', `no entry for key "${k}"`);
    return json(204);
  },
};

provideStores(entryStore);

export const handler = routedHandler({ deleteEntry: remove, deleteEntryByQuery: remove }, deleteEntryRoutes);
