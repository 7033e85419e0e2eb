import { CacheError } from '../core/errors';
import { json } from '../http/results';
import { boundedJson } from '../http/responses';
import { deleteCollectionOperation } from '../http/collection-operations';
import { routedHandler } from '../http/middleware';
import { hashesRoutes } from '../routes';
import { provideStores, type Services } from '../services';
import { hashStore } from '../stores/collections';

const store = (services: Services) => services.hashes;

provideStores(hashStore);

/** Every /hashes route (see docs/data-structures.md). */
export const handler = routedHandler({
  getHash: {
    handle: async ({ key, services }) => {
      const k = key();
      const hash = await store(services).getAll(k);
      services.countRead('hashes', !!hash);
      if (!hash) throw new CacheError('NOT_FOUND', `no hash at key "${k}"`);
      return boundedJson(200, hash, 'read the fields you need with POST /hashes/{key}/get');
    },
  },
  deleteHash: deleteCollectionOperation('hash', store),
  setHashFields: {
    handle: async ({ key, body, services }) => {
      const { created, ...result } = await store(services).set(key(), body.fields, body.ttl);
      return json(created ? 201 : 200, result);
    },
  },
  getHashFields: {
    handle: async ({ key, body, services }) => json(200, await store(services).get(key(), body.fields)),
  },
  removeHashFields: {
    handle: async ({ key, body, services }) => json(200, await store(services).remove(key(), body.fields)),
  },
  incrementHashField: {
    handle: async ({ key, body, services }) => {
      const { created, ...result } = await store(services).increment(key(), body.field, body.by ?? 1, body.ttl);
      return json(created ? 201 : 200, result);
    },
  },
  getHashSize: {
    handle: async ({ key, services }) => {
      const k = key();
      return json(200, { key: k, size: await store(services).size(k) });
    },
  },
}, hashesRoutes);
