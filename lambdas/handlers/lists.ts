import { collectionLimits } from '../domain/collections';
import { ListStore } from '../domain/lists';
import { CacheError } from '../shared/errors';
import { json } from '../shared/http';
import { boundedJson } from '../shared/responses';
import { deleteCollectionOperation } from '../shared/collection-operations';
import { operation, routedHandler } from '../shared/middleware';
import { integerParam } from '../shared/query';
import { listPopBody, listPushBody, listTrimBody } from '../shared/schemas';
import type { Services } from '../shared/services';

const store = (services: Services) => new ListStore(services.redis, collectionLimits(services.config), services.entries.readerFor());

/** Every /lists route (see docs/data-structures.md). */
export const handler = routedHandler({
  'GET /lists/{key}': operation({
    handle: async ({ key, query, services }) => {
      const k = key();
      const list = await store(services).range(k, integerParam(query('start'), 'start', 0), integerParam(query('stop'), 'stop', -1));
      services.countRead('lists', !!list);
      if (!list) throw new CacheError('NOT_FOUND', `no list at key "${k}"`);
      return boundedJson(200, list, 'read it in ranges with ?start= and ?stop=');
    },
  }),
  'DELETE /lists/{key}': deleteCollectionOperation('list', store),
  'POST /lists/{key}/push': operation({
    body: listPushBody,
    handle: async ({ key, body, services }) => {
      const { created, ...result } = await store(services).push(key(), body.values, body.end, body.ttl);
      return json(created ? 201 : 200, result);
    },
  }),
  'POST /lists/{key}/pop': operation({
    body: listPopBody,
    handle: async ({ key, body, services }) => json(200, await store(services).pop(key(), body.end, body.count)),
  }),
  'GET /lists/{key}/size': operation({
    handle: async ({ key, services }) => {
      const k = key();
      return json(200, { key: k, size: await store(services).size(k) });
    },
  }),
  'POST /lists/{key}/trim': operation({
    body: listTrimBody,
    handle: async ({ key, body, services }) => {
      const k = key();
      return json(200, { key: k, size: await store(services).trim(k, body.start, body.stop) });
    },
  }),
});
