import { collectionLimits } from '../domain/collections';
import { HashStore } from '../domain/hashes';
import { CacheError } from '../shared/errors';
import { json } from '../shared/http';
import { boundedJson } from '../shared/responses';
import { deleteCollectionOperation } from '../shared/collection-operations';
import { operation, routedHandler } from '../shared/middleware';
import { hashFieldsBody, hashIncrementBody, hashSetBody } from '../shared/schemas';
import type { Services } from '../shared/services';

const store = (services: Services) => new HashStore(services.redis, collectionLimits(services.config), services.entries.readerFor());

/** Every /hashes route (see docs/data-structures.md). */
export const handler = routedHandler({
  'GET /hashes/{key}': operation({
    handle: async ({ key, services }) => {
      const k = key();
      const hash = await store(services).getAll(k);
      services.countRead('hashes', !!hash);
      if (!hash) throw new CacheError('NOT_FOUND', `no hash at key "${k}"`);
      return boundedJson(200, hash, 'read the fields you need with POST /hashes/{key}/get');
    },
  }),
  'DELETE /hashes/{key}': deleteCollectionOperation('hash', store),
  'POST /hashes/{key}/set': operation({
    body: hashSetBody,
    handle: async ({ key, body, services }) => {
      const { created, ...result } = await store(services).set(key(), body.fields, body.ttl);
      return json(created ? 201 : 200, result);
    },
  }),
  'POST /hashes/{key}/get': operation({
    body: hashFieldsBody,
    handle: async ({ key, body, services }) => json(200, await store(services).get(key(), body.fields)),
  }),
  'POST /hashes/{key}/remove': operation({
    body: hashFieldsBody,
    handle: async ({ key, body, services }) => json(200, await store(services).remove(key(), body.fields)),
  }),
  'POST /hashes/{key}/increment': operation({
    body: hashIncrementBody,
    handle: async ({ key, body, services }) => {
      const { created, ...result } = await store(services).increment(key(), body.field, body.by ?? 1, body.ttl);
      return json(created ? 201 : 200, result);
    },
  }),
  'GET /hashes/{key}/size': operation({
    handle: async ({ key, services }) => {
      const k = key();
      return json(200, { key: k, size: await store(services).size(k) });
    },
  }),
});
