import { deleteMany, getMany, setMany } from '../domain/batch';
import { json } from '../http/results';
import { routedHandler } from '../http/middleware';
import { batchRoutes } from '../routes';
import { provideStores } from '../services';
import { entryStore } from '../stores/entries';

provideStores(entryStore);

/** POST /cache/batch/{get,set,delete}: many keys per request, one round trip per shard, results in request order. */
export const handler = routedHandler({
  batchGet: {
    handle: async ({ body, services }) => {
      const items = await getMany(services.entries, body.keys, undefined, { allowStale: body.allowStale });
      const hits = items.filter((i) => i.found).length;
      services.hits.record('batch', hits, items.length - hits);
      return json(200, { items });
    },
  },
  batchSet: {
    handle: async ({ body, services }) => json(200, { items: await setMany(services.entries, body.items) }),
  },
  batchDelete: {
    handle: async ({ body, services }) => json(200, { items: await deleteMany(services.entries, body.keys) }),
  },
}, batchRoutes);
