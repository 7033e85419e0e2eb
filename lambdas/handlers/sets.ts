import { CacheError } from '../core/errors';
import { json } from '../http/results';
import { boundedJson } from '../http/responses';
import { deleteCollectionOperation } from '../http/collection-operations';
import { routedHandler } from '../http/middleware';
import { setsRoutes } from '../routes';
import { provideStores, type Services } from '../services';
import { setStore } from '../stores/collections';

const store = (services: Services) => services.sets;

provideStores(setStore);

/** Every /sets route (see docs/data-structures.md). */
export const handler = routedHandler({
  getSetMembers: {
    handle: async ({ key, services }) => {
      const k = key();
      const set = await store(services).members(k);
      services.countRead('sets', !!set);
      if (!set) throw new CacheError('NOT_FOUND', `no set at key "${k}"`);
      return boundedJson(200, set, 'ask about members with POST /sets/{key}/contains, or pop them');
    },
  },
  deleteSet: deleteCollectionOperation('set', store),
  addSetMembers: {
    handle: async ({ key, body, services }) => {
      const { created, ...result } = await store(services).add(key(), body.members, body.ttl);
      return json(created ? 201 : 200, result);
    },
  },
  removeSetMembers: {
    handle: async ({ key, body, services }) => json(200, await store(services).remove(key(), body.members)),
  },
  containsSetMembers: {
    handle: async ({ key, body, services }) => {
      const k = key();
      return json(200, { key: k, results: await store(services).contains(k, body.members) });
    },
  },
  getSetSize: {
    handle: async ({ key, services }) => {
      const k = key();
      return json(200, { key: k, size: await store(services).size(k) });
    },
  },
  popSetMembers: {
    handle: async ({ key, body, services }) => json(200, await store(services).pop(key(), body.count)),
  },
}, setsRoutes);
