import { deleteMany, getMany, setMany } from '../lambdas/domain/batch';
import { tagDirectoryKey } from '../lambdas/domain/tags';
import { startRedisCluster, type RedisClusterProcess } from '../lambdas/local/redis-cluster';
import { startLocalServer, type LocalServer } from '../lambdas/local/server';
import { resetRuntimeConfig } from '../lambdas/core/config';
import { entryKey, slotOf } from '../lambdas/core/keyspace';
import { whenReady } from '../lambdas/core/readiness';
import { primaries } from '../lambdas/core/redis';
import { closeServices, provideStores, resetServices, services } from '../lambdas/services';
import { entryStore } from '../lambdas/stores/entries';
import { countRoundTrips } from './support/round-trips';

// The domain tests below use the entry store directly, as a handler module that provides it would.
provideStores(entryStore);

let cluster: RedisClusterProcess;
let server: LocalServer;
let saved: string | undefined;

beforeAll(async () => {
  cluster = await startRedisCluster();
  saved = process.env.REDIS_CLUSTER_NODES;
  process.env.REDIS_CLUSTER_NODES = cluster.seedList;
  resetRuntimeConfig();
  resetServices();
  // the domain calls below skip the handlers' wait for a ready connection (there is no offline queue)
  await whenReady(services().redis, 10_000);
  server = await startLocalServer();
}, 60_000);
afterAll(async () => {
  await server?.close();
  await closeServices();
  if (saved === undefined) delete process.env.REDIS_CLUSTER_NODES;
  else process.env.REDIS_CLUSTER_NODES = saved;
  resetRuntimeConfig();
  await cluster?.stop();
});
beforeEach(async () => {
  await Promise.all(primaries(services().redis).map((node) => node.flushall()));
});

const entries = () => services().entries;
/** Keys spread over many slots, and so over all three shards. */
const spread = (n: number, prefix = 'key') => Array.from({ length: n }, (_, i) => `${prefix}:${i}`);

async function allKeys(): Promise<string[]> {
  const lists = await Promise.all(primaries(services().redis).map((node) => node.keys('*')));
  return lists.flat().sort();
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(server.url + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

describe('rich semantics on a 3-primary Redis Cluster', () => {
  test('batches span slots on every shard with one round trip per shard and no CROSSSLOT', async () => {
    const keys = spread(100);
    expect(new Set(keys.map((k) => slotOf(entryKey(k)))).size).toBeGreaterThan(90);
    // warm: connections and scripts on every node
    await setMany(entries(), keys.map((key) => ({ key, value: 0 })));
    await getMany(entries(), keys);
    await deleteMany(entries(), keys);
    const trips: Record<string, Record<string, number>> = {};
    trips.set = await countRoundTrips(services().redis, () => setMany(entries(), keys.map((key, i) => ({ key, value: i, ttl: 60 }))));
    trips.get = await countRoundTrips(services().redis, async () => {
      const items = await getMany(entries(), keys);
      expect(items.map((i) => (i.found ? i.value : null))).toEqual(keys.map((_, i) => i));
    });
    trips.delete = await countRoundTrips(services().redis, async () => {
      const items = await deleteMany(entries(), [...keys, 'absent']);
      expect(items.filter((i) => i.deleted)).toHaveLength(100);
    });
    console.log(`round trips per shard for batches of 100 keys over ${Object.keys(trips.get).length} shards: ${JSON.stringify(trips)}`);
    for (const perNode of Object.values(trips)) {
      expect(Object.values(perNode)).toHaveLength(3);
      for (const n of Object.values(perNode)) expect(n).toBe(1);
    }
    // a batch get over HTTP counts each key's hit or miss (in the process, read back by /cache/stats)
    await call('POST', '/cache/batch/set', { items: keys.slice(0, 60).map((key) => ({ key, value: 1 })) });
    const before = (await call('GET', '/cache/stats')).body.families.batch;
    expect((await call('POST', '/cache/batch/get', { keys })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1000)); // past the one-second shared stats answer
    const after = (await call('GET', '/cache/stats')).body.families.batch;
    expect({ hits: after.hits - before.hits, misses: after.misses - before.misses }).toEqual({ hits: 60, misses: 40 });
  });

  test('a batch tagged write costs two round trips per shard at most: the tag directories, then the entries', async () => {
    const keys = spread(60, 'tagged');
    await setMany(entries(), [{ key: 'warm', value: 1, tags: ['warm'] }]);
    const trips = await countRoundTrips(services().redis, () =>
      setMany(entries(), keys.map((key) => ({ key, value: 1, tags: ['batch-tag'] }))),
    );
    console.log(`round trips per shard for a tagged batch set of 60: ${JSON.stringify(trips)}`);
    for (const n of Object.values(trips)) expect(n).toBeLessThanOrEqual(2);
  });

  test('tags spanning slots: invalidation removes every carrier on every shard, and the indexes empty out', async () => {
    const keys = spread(50, 'user');
    await setMany(entries(), keys.map((key, i) => ({ key, value: i, tags: i % 2 ? ['users', 'odd'] : ['users'] })));
    await entries().set('product', 1, 60, { tags: ['products'] });
    await entries().set('{user}:same-slot', 1, 60, { tags: ['odd'] });
    expect(await entries().invalidate({ tags: ['odd'] })).toBe(26);
    expect((await getMany(entries(), keys)).filter((i) => i.found)).toHaveLength(25);
    expect((await call('POST', '/cache/invalidate', { tags: ['users', 'nothing'] })).body).toEqual({ invalidated: 25 });
    const left = await allKeys();
    expect(left.filter((k) => k.startsWith('k:'))).toEqual(['k:product']);
    expect(left.filter((k) => k.startsWith('_:tag:'))).toHaveLength(1); // the products index, in product's slot
  });

  test('deleted and expired entries drop out of the per-slot indexes; directories expire with their entries', async () => {
    await entries().set('a', 1, 60, { tags: ['t'] });
    await entries().set('b', 1, 1, { tags: ['t'] });
    await entries().delete('a');
    await deleteMany(entries(), ['nothing']);
    const indexes = async () => (await allKeys()).filter((k) => k.startsWith('_:tag:'));
    expect(await indexes()).toHaveLength(1); // b's
    await new Promise((r) => setTimeout(r, 1100));
    expect(await indexes()).toEqual([]); // expired with its last member
    const dirTtl = await services().redis.pttl(tagDirectoryKey('t'));
    expect(dirTtl).toBeGreaterThan(0);
    expect(dirTtl).toBeLessThanOrEqual(61_000 + 60_000);
    expect(await entries().invalidate({ tags: ['t'] })).toBe(0);
  });

  test('touch, persist and sliding reads keep tagged entries reachable by their tag', async () => {
    await entries().set('s', 1, 2, { tags: ['slide'] });
    await entries().touch('s', 3600);
    await entries().persist('s');
    expect(await services().redis.zscore(tagDirectoryKey('slide'), String(slotOf(entryKey('s'))))).toBe('inf');
    await entries().set('g', 1, 2, { tags: ['slide'] });
    await entries().get('g', { touchTtlSeconds: 3600 });
    const score = Number(await services().redis.zscore(tagDirectoryKey('slide'), String(slotOf(entryKey('g')))));
    expect(score).toBeGreaterThan(Date.now() + 3_500_000);
    expect(await entries().invalidate({ tags: ['slide'] })).toBe(2);
  });

  test('conditional writes, ETags and TTL routes over HTTP on the cluster', async () => {
    const created = await call('POST', '/cache', { key: 'c', value: 1, ifAbsent: true, tags: ['x'] });
    expect(created.status).toBe(201);
    const v = created.body.version as number;
    expect((await call('POST', '/cache', { key: 'c', value: 2, ifAbsent: true })).body.error.details).toEqual({ currentVersion: v });
    expect((await call('POST', '/cache', { key: 'c', value: 2, ifVersion: 4 })).status).toBe(409);
    expect((await call('POST', '/cache', { key: 'c', value: 2 }, { 'If-Match': '"4"' })).status).toBe(412);
    expect((await call('GET', '/cache/c', undefined, { 'If-None-Match': `"${v}"` })).status).toBe(304);
    expect((await call('POST', '/cache', { key: 'c', value: 2, ifVersion: v })).body.version).toBe(v + 1);
    expect((await call('PUT', '/cache/c/ttl', { ttl: 99 })).body).toEqual({ key: 'c', ttl: 99 });
    expect((await call('GET', '/cache/c?sliding=true')).body.ttl).toBe(3600);
  });

  test('key and prefix invalidation across slots leave the tag indexes clean', async () => {
    await setMany(entries(), spread(30, 'pre').map((key) => ({ key, value: 1, tags: ['pre'] })));
    expect(await entries().invalidate({ prefix: 'pre:1', keys: ['pre:2', 'pre:3'] })).toBe(13);
    expect(await entries().invalidate({ prefix: 'pre:' })).toBe(17);
    expect((await allKeys()).filter((k) => k.startsWith('_:tag:'))).toEqual([]);
  });
});

