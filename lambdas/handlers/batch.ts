import { deleteMany, getMany, setMany } from '../domain/batch';
import { json } from '../shared/http';
import { operation, routedHandler } from '../shared/middleware';
import { batchDeleteBody, batchGetBody, batchSetBody } from '../shared/schemas';

/** POST /cache/batch/{get,set,delete}: many keys per request, one round trip per shard, results in request order. */
export const handler = routedHandler({
  'POST /cache/batch/get': operation({
    body: batchGetBody,
    handle: async ({ body, services }) => {
      const items = await getMany(services.entries, body.keys);
      const hits = items.filter((i) => i.found).length;
      services.hits.record('batch', hits, items.length - hits);
      return json(200, { items });
    },
  }),
  'POST /cache/batch/set': operation({
    body: batchSetBody,
    handle: async ({ body, services }) => json(200, { items: await setMany(services.entries, body.items) }),
  }),
  'POST /cache/batch/delete': operation({
    body: batchDeleteBody,
    handle: async ({ body, services }) => json(200, { items: await deleteMany(services.entries, body.keys) }),
  }),
});
