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
  /** Puts Redis in the state the request expects, through a plain client (not counted). */
  setup?: (redis: Redis) => Promise<unknown>;
  /** Operations on one key, which must take one round trip. */
  singleKey?: boolean;
  expectStatus: number;
}

/** A JSON value whose stored text is `bytes` long (the design's 512-byte object). */
export function valueOfSize(bytes: number): { data: string } {
  return { data: 'x'.repeat(Math.max(0, bytes - '{"data":""}'.length)) };
}

const entry = (value: unknown) => `1:${Date.now()}:${Date.now()}:${JSON.stringify(value)}`;
const put = (key: string, value: unknown = valueOfSize(512)) => (r: Redis) => r.set(`k:${key}`, entry(value), 'EX', 3600);

export const samples: Record<string, RouteSample[]> = {
  getCacheStats: [
    { variant: '', request: {}, setup: (r) => Promise.all([put('bench:stats')(r), r.hincrby('_:stats', 'hits', 1)]), expectStatus: 200 },
  ],
  getEntry: [
    { variant: 'hit', request: { pathParameters: { key: 'bench:get' } }, setup: put('bench:get'), singleKey: true, expectStatus: 200 },
    { variant: 'miss', request: { pathParameters: { key: 'bench:absent' } }, singleKey: true, expectStatus: 404 },
  ],
  getEntryByQuery: [
    { variant: 'hit', request: { query: { key: 'bench/get' } }, setup: put('bench/get'), singleKey: true, expectStatus: 200 },
  ],
  setEntry: [
    { variant: 'create', request: { body: { key: 'bench:set-new', value: valueOfSize(512), ttl: 600 } }, setup: (r) => r.del('k:bench:set-new'), singleKey: true, expectStatus: 201 },
    { variant: 'replace', request: { body: { key: 'bench:set', value: valueOfSize(512), ttl: 600 } }, setup: put('bench:set'), singleKey: true, expectStatus: 200 },
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
};
