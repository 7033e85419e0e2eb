import { collectionLimits } from '../domain/collections';
import { SetStore } from '../domain/sets';
import { CacheError } from '../shared/errors';
import { json } from '../shared/http';
import { boundedJson } from '../shared/responses';
import { deleteCollectionOperation } from '../shared/collection-operations';
import { operation, routedHandler } from '../shared/middleware';
import { membersBody, setMembersBody, setPopBody } from '../shared/schemas';
import type { Services } from '../shared/services';

const store = (services: Services) => new SetStore(services.redis, collectionLimits(services.config), services.entries.readerFor());

/** Every /sets route (see docs/data-structures.md). */
export const handler = routedHandler({
  'GET /sets/{key}': operation({
    handle: async ({ key, services }) => {
      const k = key();
      const set = await store(services).members(k);
      services.countRead('sets', !!set);
      if (!set) throw new CacheError('NOT_FOUND', `no set at key "${k}"`);
      return boundedJson(200, set, 'ask about members with POST /sets/{key}/contains, or pop them');
    },
  }),
  'DELETE /sets/{key}': deleteCollectionOperation('set', store),
  'POST /sets/{key}/add': operation({
    body: setMembersBody,
    handle: async ({ key, body, services }) => {
      const { created, ...result } = await store(services).add(key(), body.members, body.ttl);
      return json(created ? 201 : 200, result);
    },
  }),
  'POST /sets/{key}/remove': operation({
    body: membersBody,
    handle: async ({ key, body, services }) => json(200, await store(services).remove(key(), body.members)),
  }),
  'POST /sets/{key}/contains': operation({
    body: membersBody,
    handle: async ({ key, body, services }) => {
      const k = key();
      return json(200, { key: k, results: await store(services).contains(k, body.members) });
    },
  }),
  'GET /sets/{key}/size': operation({
    handle: async ({ key, services }) => {
      const k = key();
      return json(200, { key: k, size: await store(services).size(k) });
    },
  }),
  'POST /sets/{key}/pop': operation({
    body: setPopBody,
    handle: async ({ key, body, services }) => json(200, await store(services).pop(key(), body.count)),
  }),
});
