import { startRedisCluster, type RedisClusterProcess } from '../lambdas/local/redis-cluster';
import { startLocalServer, type LocalServer } from '../lambdas/local/server';
import { changeStreamKeyFor, entryKey, slotOf, topicKey } from '../lambdas/core/keyspace';
import { whenReady } from '../lambdas/core/readiness';
import { primaries, type RedisClient } from '../lambdas/core/redis';
import { services } from '../lambdas/services';
import { restoreServiceEnv, setServiceEnv } from './support/env';
import { changeEventsSuite, httpClient, PUBSUB_ENV, pubsubSuite } from './support/pubsub';

/** Pub/sub topics and change events over HTTP on a real 3-primary Redis Cluster (docs/pubsub.md). */
let cluster: RedisClusterProcess;
let server: LocalServer;

beforeAll(async () => {
  cluster = await startRedisCluster();
  await setServiceEnv({ ...PUBSUB_ENV, REDIS_URL: undefined, REDIS_CLUSTER_NODES: cluster.seedList });
  await whenReady(services().redis, 10_000);
  server = await startLocalServer();
}, 60_000);
afterAll(async () => {
  await server?.close();
  await restoreServiceEnv();
  await cluster?.stop();
});
beforeEach(async () => {
  await Promise.all(primaries(services().redis).map((node) => node.flushall()));
});

describe('topics on a Redis Cluster', () => pubsubSuite(() => server));

describe('change events on a Redis Cluster', () => {
  // One change stream per hash slot: read each key's through its slot.
  changeEventsSuite(() => server, (key) => `/changes?slot=${slotOf(entryKey(key))}`);

  test('a topic and each change stream live in one slot, the change stream in its key\'s', async () => {
    const call = httpClient(() => server);
    const redis = services().redis as RedisClient;
    for (const topic of ['a', 'b{x}', 'c}', 'd']) {
      expect((await call('POST', `/topics/${encodeURIComponent(topic)}/messages`, { message: topic })).status).toBe(201);
      expect(await redis.xlen(topicKey(topic))).toBe(1);
    }
    for (const key of ['k1', 'k2', 'user:{42}:a']) {
      const created = await call('POST', '/cache', { key, value: 1 });
      expect(await redis.xlen(changeStreamKeyFor(entryKey(key), true))).toBe(1);
      const byKey = await call('GET', `/changes?key=${encodeURIComponent(key)}&wait=0`);
      expect(byKey.json.messages.map((m: { data: unknown }) => m.data)).toEqual([{ key, op: 'set', version: created.json.version, tags: [] }]);
    }
    expect((await call('GET', '/changes?wait=0')).status).toBe(400);
    expect((await call('GET', '/changes?slot=16384')).status).toBe(400);
  });
});
