import { json } from '../http/results';
import { routedHandler, type Operation } from '../http/middleware';
import { invalidateRoutes, type BodyOf } from '../routes';
import { provideStores } from '../services';
import { entryStore } from '../stores/entries';

/** POST /cache/invalidate */
const invalidate: Operation<BodyOf<'invalidate'>> = {
  handle: async ({ body, services }) => json(200, { invalidated: await services.entries.invalidate(body) }),
  // A prefix or tag may cover millions of keys: the work may use the function's time, not one command's.
  keyspaceWide: true,
};

provideStores(entryStore);

export const handler = routedHandler({ invalidate }, invalidateRoutes);
