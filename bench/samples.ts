import type Redis from 'ioredis';
import type { SampleRequest } from './lib/events';

/**
 * A valid request for each route of the table (lambdas/routes.ts), by route id. The round-trip count and the cold
 * start drive every route through these; a route added later without a sample here is reported as "no sample".
 */
export interface RouteSample {
  /** Shown next to the route id, e.g. "hit" or "10 keys". */
  variant: string;
  request: SampleRequest;
  /** Puts Redis in the state the request expects, through a plain client or other routes (not counted). */
  setup?: (redis: Redis, call: CallRoute) => Promise<unknown>;
  /** Operations on one key, which must take one round trip. */
  singleKey?: boolean;
  /** The status the request must get; any 2xx when unset. */
  expectStatus?: number;
  /** Wait this long after the warm-up request before the measured one (answers shared for a while must expire). */
  settleMs?: number;
}

/** Invokes another route's handler in process (for set-up). */
export type CallRoute = (routeId: string, request: SampleRequest) => Promise<unknown>;

/** A sample whose set-up first runs other routes' requests. */
const after = (steps: [string, SampleRequest][]) => async (_r: Redis, call: CallRoute) => {
  for (const [id, request] of steps) await call(id, request);
};
const on = (key: string, extra: SampleRequest = {}): SampleRequest => ({ ...extra, pathParameters: { key } });

/** A JSON value whose stored text is `bytes` long (the design's 512-byte object). */
export function valueOfSize(bytes: number): { data: string } {
  return { data: 'x'.repeat(Math.max(0, bytes - '{"data":""}'.length)) };
}

/** An entry in the stored form the write script makes (docs/storage.md), expiring an hour from now. */
export function storedEntry(value: unknown, ttlMs = 3_600_000): { raw: string; expiresAt: number } {
  const now = Date.now();
  const expiresAt = now + ttlMs;
  return { raw: `x${String(expiresAt).padStart(15, '0')}:1:${now}:${now}:${ttlMs}:0:${JSON.stringify(value)}`, expiresAt };
}
const entry = (value: unknown) => storedEntry(value).raw;
const put = (key: string, value: unknown = valueOfSize(512)) => (r: Redis) => {
  const { raw, expiresAt } = storedEntry(value);
  return r.set(`k:${key}`, raw, 'PXAT', expiresAt);
};

export const samples: Record<string, RouteSample[]> = {
  getCacheStats: [
    // Stats calls within a second share one answer: the measured call must not be served the warm-up's.
    { variant: '', request: {}, setup: put('bench:stats'), settleMs: 1100 },
  ],
  getEntry: [
    { variant: 'hit', request: { pathParameters: { key: 'bench:get' } }, setup: put('bench:get'), singleKey: true, },
    { variant: 'miss', request: { pathParameters: { key: 'bench:absent' } }, singleKey: true, expectStatus: 404 },
  ],
  getEntryByQuery: [
    { variant: 'hit', request: { query: { key: 'bench/get' } }, setup: put('bench/get'), singleKey: true, },
  ],
  setEntry: [
    { variant: 'create', request: { body: { key: 'bench:set-new', value: valueOfSize(512), ttl: 600 } }, setup: (r) => r.del('k:bench:set-new'), singleKey: true, expectStatus: 201 },
    { variant: 'replace', request: { body: { key: 'bench:set', value: valueOfSize(512), ttl: 600 } }, setup: put('bench:set'), singleKey: true, },
  ],
  putEntry: [
    { variant: 'replace', request: { pathParameters: { key: 'bench:put' }, body: { value: valueOfSize(512), keepTtl: true } }, setup: put('bench:put'), singleKey: true },
  ],
  putEntryByQuery: [
    { variant: 'create', request: { query: { key: 'bench:put-new' }, body: { value: valueOfSize(512), ttl: 600 } }, setup: (r) => r.del('k:bench:put-new'), singleKey: true, expectStatus: 201 },
  ],
  deleteEntry: [
    { variant: '', request: { pathParameters: { key: 'bench:del' } }, setup: put('bench:del'), singleKey: true, expectStatus: 204 },
  ],
  deleteEntryByQuery: [
    { variant: '', request: { query: { key: 'bench/del' } }, setup: put('bench/del'), singleKey: true, expectStatus: 204 },
  ],
  invalidate: [
    {
      variant: '10 keys',
      request: { body: { keys: Array.from({ length: 10 }, (_, i) => `bench:batch:${i}`) } },
      setup: async (r) => Promise.all(Array.from({ length: 10 }, (_, i) => put(`bench:batch:${i}`)(r))),
      expectStatus: 200,
    },
    {
      variant: 'prefix matching 2,000 keys',
      request: { body: { prefix: 'bench:pfx:' } },
      setup: async (r) => {
        const p = r.pipeline();
        for (let i = 0; i < 2000; i++) p.set(`k:bench:pfx:${i}`, entry(1), 'EX', 3600);
        return p.exec();
      },
      expectStatus: 200,
    },
  ],
  batchGet: [
    {
      variant: '10 keys',
      request: { body: { keys: Array.from({ length: 10 }, (_, i) => `bench:bget:${i}`) } },
      setup: async (r) => Promise.all(Array.from({ length: 10 }, (_, i) => put(`bench:bget:${i}`)(r))),
    },
  ],
  batchSet: [{ variant: '10 items', request: { body: { items: Array.from({ length: 10 }, (_, i) => ({ key: `bench:bset:${i}`, value: valueOfSize(512), ttl: 600 })) } } }],
  batchDelete: [
    {
      variant: '10 keys',
      request: { body: { keys: Array.from({ length: 10 }, (_, i) => `bench:bdel:${i}`) } },
      setup: async (r) => Promise.all(Array.from({ length: 10 }, (_, i) => put(`bench:bdel:${i}`)(r))),
    },
  ],
  getEntryTtl: [{ variant: '', request: on('bench:ttl'), setup: put('bench:ttl'), singleKey: true }],
  touchEntry: [{ variant: '', request: on('bench:ttl', { body: { ttl: 600 } }), setup: put('bench:ttl'), singleKey: true }],
  persistEntry: [{ variant: '', request: on('bench:ttl'), setup: put('bench:ttl'), singleKey: true }],
  getEntryTtlByQuery: [{ variant: '', request: { query: { key: 'bench/ttl' } }, setup: put('bench/ttl'), singleKey: true }],
  touchEntryByQuery: [{ variant: '', request: { query: { key: 'bench/ttl' }, body: { ttl: 600 } }, setup: put('bench/ttl'), singleKey: true }],
  persistEntryByQuery: [{ variant: '', request: { query: { key: 'bench/ttl' } }, setup: put('bench/ttl'), singleKey: true }],
  getListRange: [{ variant: '', request: on('bench:ds:list'), setup: after([['pushList', on('bench:ds:list', { body: { values: [1, 2, 3] } })]]), singleKey: true }],
  deleteList: [{ variant: '', request: on('bench:ds:list'), setup: after([['pushList', on('bench:ds:list', { body: { values: [1, 2, 3] } })]]), singleKey: true }],
  pushList: [{ variant: '3 values', request: on('bench:ds:list', { body: { values: [1, 2, 3] } }), singleKey: true }],
  popList: [{ variant: '', request: on('bench:ds:list', { body: {} }), setup: after([['pushList', on('bench:ds:list', { body: { values: [1, 2, 3] } })]]), singleKey: true }],
  getListSize: [{ variant: '', request: on('bench:ds:list'), setup: after([['pushList', on('bench:ds:list', { body: { values: [1] } })]]), singleKey: true }],
  trimList: [{ variant: '', request: on('bench:ds:list', { body: { start: 0, stop: 1 } }), setup: after([['pushList', on('bench:ds:list', { body: { values: [1, 2, 3] } })]]), singleKey: true }],
  getSetMembers: [{ variant: '', request: on('bench:ds:set'), setup: after([['addSetMembers', on('bench:ds:set', { body: { members: ['a', 'b'] } })]]), singleKey: true }],
  deleteSet: [{ variant: '', request: on('bench:ds:set'), setup: after([['addSetMembers', on('bench:ds:set', { body: { members: ['a', 'b'] } })]]), singleKey: true }],
  addSetMembers: [{ variant: '2 members', request: on('bench:ds:set', { body: { members: ['a', 'b'] } }), singleKey: true }],
  removeSetMembers: [{ variant: '', request: on('bench:ds:set', { body: { members: ['a'] } }), setup: after([['addSetMembers', on('bench:ds:set', { body: { members: ['a', 'b'] } })]]), singleKey: true }],
  containsSetMembers: [{ variant: '', request: on('bench:ds:set', { body: { members: ['a', 'z'] } }), setup: after([['addSetMembers', on('bench:ds:set', { body: { members: ['a', 'b'] } })]]), singleKey: true }],
  getSetSize: [{ variant: '', request: on('bench:ds:set'), setup: after([['addSetMembers', on('bench:ds:set', { body: { members: ['a'] } })]]), singleKey: true }],
  popSetMembers: [{ variant: '', request: on('bench:ds:set', { body: {} }), setup: after([['addSetMembers', on('bench:ds:set', { body: { members: ['a', 'b'] } })]]), singleKey: true }],
  getHash: [{ variant: '', request: on('bench:ds:hash'), setup: after([['setHashFields', on('bench:ds:hash', { body: { fields: { a: 1, b: 2 } } })]]), singleKey: true }],
  deleteHash: [{ variant: '', request: on('bench:ds:hash'), setup: after([['setHashFields', on('bench:ds:hash', { body: { fields: { a: 1 } } })]]), singleKey: true }],
  setHashFields: [{ variant: '2 fields', request: on('bench:ds:hash', { body: { fields: { a: 1, b: 2 } } }), singleKey: true }],
  getHashFields: [{ variant: '', request: on('bench:ds:hash', { body: { fields: ['a', 'b'] } }), setup: after([['setHashFields', on('bench:ds:hash', { body: { fields: { a: 1, b: 2 } } })]]), singleKey: true }],
  removeHashFields: [{ variant: '', request: on('bench:ds:hash', { body: { fields: ['a'] } }), setup: after([['setHashFields', on('bench:ds:hash', { body: { fields: { a: 1, b: 2 } } })]]), singleKey: true }],
  incrementHashField: [{ variant: '', request: on('bench:ds:hash', { body: { field: 'n', by: 1 } }), singleKey: true }],
  getHashSize: [{ variant: '', request: on('bench:ds:hash'), setup: after([['setHashFields', on('bench:ds:hash', { body: { fields: { a: 1 } } })]]), singleKey: true }],
  getSortedSetRange: [{ variant: '', request: on('bench:ds:zset'), setup: after([['addSortedSetMembers', on('bench:ds:zset', { body: { members: [{ member: 'a', score: 1 }, { member: 'b', score: 2 }] } })]]), singleKey: true }],
  getSortedSetRangeByScore: [
    { variant: '', request: on('bench:ds:zset', { query: { min: '0', max: '10' } }), setup: after([['addSortedSetMembers', on('bench:ds:zset', { body: { members: [{ member: 'a', score: 1 }] } })]]), singleKey: true },
  ],
  deleteSortedSet: [{ variant: '', request: on('bench:ds:zset'), setup: after([['addSortedSetMembers', on('bench:ds:zset', { body: { members: [{ member: 'a', score: 1 }] } })]]), singleKey: true }],
  addSortedSetMembers: [{ variant: '2 members', request: on('bench:ds:zset', { body: { members: [{ member: 'a', score: 1 }, { member: 'b', score: 2 }] } }), singleKey: true }],
  removeSortedSetMembers: [{ variant: '', request: on('bench:ds:zset', { body: { members: ['a'] } }), setup: after([['addSortedSetMembers', on('bench:ds:zset', { body: { members: [{ member: 'a', score: 1 }] } })]]), singleKey: true }],
  rankSortedSetMember: [{ variant: '', request: on('bench:ds:zset', { body: { member: 'a' } }), setup: after([['addSortedSetMembers', on('bench:ds:zset', { body: { members: [{ member: 'a', score: 1 }] } })]]), singleKey: true }],
  scoreSortedSetMembers: [{ variant: '', request: on('bench:ds:zset', { body: { members: ['a'] } }), setup: after([['addSortedSetMembers', on('bench:ds:zset', { body: { members: [{ member: 'a', score: 1 }] } })]]), singleKey: true }],
  incrementSortedSetMember: [{ variant: '', request: on('bench:ds:zset', { body: { member: 'a', by: 1 } }), singleKey: true }],
  countSortedSetMembers: [{ variant: '', request: on('bench:ds:zset', { query: { min: '0', max: '10' } }), setup: after([['addSortedSetMembers', on('bench:ds:zset', { body: { members: [{ member: 'a', score: 1 }] } })]]), singleKey: true }],
  getSortedSetSize: [{ variant: '', request: on('bench:ds:zset'), setup: after([['addSortedSetMembers', on('bench:ds:zset', { body: { members: [{ member: 'a', score: 1 }] } })]]), singleKey: true }],
  incrementCounter: [{ variant: '', request: on('bench:ds:counter', { body: { by: 1 } }), singleKey: true }],
  getCounter: [{ variant: '', request: on('bench:ds:counter'), setup: after([['incrementCounter', on('bench:ds:counter', { body: { by: 1 } })]]), singleKey: true }],
  deleteCounter: [
    { variant: '', request: on('bench:ds:counter-del'), setup: after([['incrementCounter', on('bench:ds:counter-del', { body: { by: 1 } })]]), singleKey: true, expectStatus: 204 },
  ],
  publishMessage: [{ variant: '', request: { pathParameters: { topic: 'bench:topic' }, body: { message: valueOfSize(512) } }, singleKey: true, expectStatus: 201 }],
  subscribeTopic: [
    {
      // Messages are waiting, so the long-poll answers at once (one script call).
      variant: 'messages waiting',
      request: { pathParameters: { topic: 'bench:topic' }, query: { limit: '10' } },
      setup: after([['publishMessage', { pathParameters: { topic: 'bench:topic' }, body: { message: valueOfSize(512) } }]]),
      singleKey: true,
    },
  ],
  subscribeChanges: [{ variant: 'change events off (the default)', request: { query: { wait: '0' } }, expectStatus: 404 }],
};
