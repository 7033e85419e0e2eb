import { parseScoreBound } from '../domain/sorted-sets';
import { CacheError } from '../core/errors';
import { json } from '../http/results';
import { boundedJson } from '../http/responses';
import { deleteCollectionOperation } from '../http/collection-operations';
import { routedHandler } from '../http/middleware';
import { sortedSetsRoutes } from '../routes';
import { booleanParam, integerParam, parsedParam } from '../http/query';
import { provideStores, type Services } from '../services';
import { sortedSetStore } from '../stores/collections';

const store = (services: Services) => services.sortedSets;
const BOUND = 'a finite number, "(" and a number for an exclusive bound, -inf or +inf';
const bound = (raw: string | undefined, name: string, fallback: string) => parsedParam(raw, name, fallback, parseScoreBound, BOUND);
const PAGE = 'read it in parts: by rank with ?start= and ?stop=, by score with ?offset= and ?limit=';
const missing = (k: string) => new CacheError('NOT_FOUND', `no sorted set at key "${k}"`);

provideStores(sortedSetStore);

/** Every /zsets route (see docs/data-structures.md). */
export const handler = routedHandler({
  getSortedSetRange: {
    handle: async ({ key, query, services }) => {
      const k = key();
      const range = await store(services).rangeByRank(k, integerParam(query('start'), 'start', 0), integerParam(query('stop'), 'stop', -1), {
        reverse: booleanParam(query('reverse'), 'reverse'),
        withScores: booleanParam(query('withScores'), 'withScores'),
      });
      services.countRead('zsets', !!range);
      if (!range) throw missing(k);
      return boundedJson(200, range, PAGE);
    },
  },
  getSortedSetRangeByScore: {
    handle: async ({ key, query, services }) => {
      const k = key();
      const offset = query('offset') ? integerParam(query('offset'), 'offset', 0, 0) : undefined;
      const limit = query('limit') ? integerParam(query('limit'), 'limit', 0, 0) : undefined;
      const range = await store(services).rangeByScore(k, bound(query('min'), 'min', '-inf'), bound(query('max'), 'max', '+inf'), {
        reverse: booleanParam(query('reverse'), 'reverse'),
        withScores: booleanParam(query('withScores'), 'withScores'),
        offset,
        limit,
      });
      services.countRead('zsets', !!range);
      if (!range) throw missing(k);
      return boundedJson(200, range, PAGE);
    },
  },
  deleteSortedSet: deleteCollectionOperation('sorted set', store),
  addSortedSetMembers: {
    handle: async ({ key, body, services }) => {
      const { members, ttl, ...conditions } = body;
      const { created, ...result } = await store(services).add(key(), members, conditions, ttl);
      return json(created ? 201 : 200, result);
    },
  },
  removeSortedSetMembers: {
    handle: async ({ key, body, services }) => json(200, await store(services).remove(key(), body.members)),
  },
  rankSortedSetMember: {
    handle: async ({ key, body, services }) => json(200, await store(services).rank(key(), body.member, body.reverse)),
  },
  scoreSortedSetMembers: {
    handle: async ({ key, body, services }) => {
      const k = key();
      return json(200, { key: k, scores: await store(services).scores(k, body.members) });
    },
  },
  incrementSortedSetMember: {
    handle: async ({ key, body, services }) => {
      const { created, ...result } = await store(services).increment(key(), body.member, body.by, body.ttl);
      return json(created ? 201 : 200, result);
    },
  },
  countSortedSetMembers: {
    handle: async ({ key, query, services }) => {
      const k = key();
      const count = await store(services).count(k, bound(query('min'), 'min', '-inf'), bound(query('max'), 'max', '+inf'));
      return json(200, { key: k, count });
    },
  },
  getSortedSetSize: {
    handle: async ({ key, services }) => {
      const k = key();
      return json(200, { key: k, size: await store(services).size(k) });
    },
  },
}, sortedSetsRoutes);
