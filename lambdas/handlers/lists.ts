import { CacheError } from '../core/errors';
import { json } from '../http/results';
import { boundedJson } from '../http/responses';
import { deleteCollectionOperation } from '../http/collection-operations';
import { routedHandler } from '../http/middleware';
import { listsRoutes } from '../routes';
import { integerParam } from '../http/query';
import { provideStores, type Services } from '../services';
import { listStore } from '../stores/collections';

const store = (services: Services) => services.lists;

provideStores(listStore);

/** Every /lists route (see docs/data-structures.md). */
export const handler = routedHandler({
  getListRange: {
    handle: async ({ key, query, services }) => {
      const k = key();
      const list = await store(services).range(k, integerParam(query('start'), 'start', 0), integerParam(query('stop'), 'stop', -1));
      services.countRead('lists', !!list);
      if (!list) throw new CacheError('NOT_FOUND', `no list at key "${k}"`);
      return boundedJson(200, list, 'read it in ranges with ?start= and ?stop=');
    },
  },
  deleteList: deleteCollectionOperation('list', store),
  pushList: {
    handle: async ({ key, body, services }) => {
      const { created, ...result } = await store(services).push(key(), body.values, body.end, body.ttl);
      return json(created ? 201 : 200, result);
    },
  },
  popList: {
    handle: async ({ key, body, services }) => json(200, await store(services).pop(key(), body.end, body.count)),
  },
  getListSize: {
    handle: async ({ key, services }) => {
      const k = key();
      return json(200, { key: k, size: await store(services).size(k) });
    },
  },
  trimList: {
    handle: async ({ key, body, services }) => {
      const k = key();
      return json(200, { key: k, size: await store(services).trim(k, body.start, body.stop) });
    },
  },
}, listsRoutes);
