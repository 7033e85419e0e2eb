import Redis from 'ioredis';
import { EntryStore } from '../lambdas/domain/entries';
import { startRedisProcess, type RedisProcess } from '../lambdas/local/redis-process';
import { startLocalServer } from '../lambdas/local/server';
import { entryKey } from '../lambdas/core/keyspace';
import { restoreServiceEnv, setServiceEnv } from './support/env';

/**
 * Each policy on its own small redis-server (4 MB, 10 samples for a sharper approximation), filled past the limit
 * through the entry domain; what survives is checked against what the Redis docs promise for the policy.
 */
const limits = { defaultTtlSeconds: 3600, maxTtlSeconds: 30 * 24 * 3600, maxValueBytes: 1024 * 1024 };
const VALUE = 'x'.repeat(1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function smallRedis(policy: string): Promise<{ server: RedisProcess; client: Redis; store: EntryStore }> {
  const server = await startRedisProcess({ maxmemory: '4mb', maxmemoryPolicy: policy, args: ['--maxmemory-samples', '10'] });
  const client = new Redis(server.url);
  return { server, client, store: new EntryStore(client, limits) };
}

async function evicted(client: Redis): Promise<number> {
  return Number(/evicted_keys:(\d+)/.exec(await client.info('stats'))![1]);
}

/** Writes `prefix:i` entries until Redis starts evicting (or `max`), returning the keys written. */
async function fillUntilEvicting(store: EntryStore, client: Redis, prefix: string, ttl?: number, max = 20_000): Promise<string[]> {
  const keys: string[] = [];
  const start = await evicted(client);
  for (let i = 0; i < max; i++) {
    keys.push(`${prefix}${i}`);
    await store.set(`${prefix}${i}`, VALUE, ttl);
    if (i % 50 === 0 && (await evicted(client)) > start) break;
  }
  return keys;
}

async function writeMore(store: EntryStore, prefix: string, count: number, ttl?: number): Promise<void> {
  for (let i = 0; i < count; i++) await store.set(`${prefix}${i}`, VALUE, ttl);
}

async function surviving(client: Redis, keys: string[]): Promise<number> {
  if (!keys.length) return 0;
  return client.exists(...keys.map(entryKey));
}

const report = (policy: string, figures: Record<string, unknown>) => console.log(`[eviction] ${policy}: ${JSON.stringify(figures)}`);

describe('eviction policies under memory pressure', () => {
  afterAll(() => restoreServiceEnv());

  test('noeviction: a write over the limit is a 507 with a clear message; older data and reads stay intact', async () => {
    const { server, client, store } = await smallRedis('noeviction');
    try {
      const written: string[] = [];
      let refused: unknown;
      for (let i = 0; i < 20_000 && !refused; i++) {
        await store.set(`n:${i}`, VALUE).then(
          () => written.push(`n:${i}`),
          (e: unknown) => (refused = e),
        );
      }
      expect(refused).toMatchObject({ code: 'OUT_OF_MEMORY' });
      expect(await surviving(client, written)).toBe(written.length);
      expect((await store.get(written[0]))!.value).toBe(VALUE); // reads still work when full

      await setServiceEnv({ REDIS_URL: server.url, REDIS_CLUSTER_NODES: undefined });
      const local = await startLocalServer();
      try {
        const res = await fetch(`${local.url}/cache`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ key: 'one-more', value: VALUE }),
        });
        const body = (await res.json()) as { error: { code: string; message: string } };
        report('noeviction', { stored: written.length, status: res.status, message: body.error.message });
        expect(res.status).toBe(507);
        expect(body.error.code).toBe('OUT_OF_MEMORY');
        expect(body.error.message).toMatch(/out of memory.*eviction policy refuses new writes/);
        expect((await fetch(`${local.url}/cache/${written[1]}`)).status).toBe(200);
        const stats = (await (await fetch(`${local.url}/cache/stats`)).json()) as { redis: Record<string, unknown> };
        expect(stats.redis).toMatchObject({ evictionPolicy: 'noeviction', evictedKeys: 0 });
      } finally {
        await local.close();
      }
      expect(await surviving(client, written)).toBe(written.length);
    } finally {
      client.disconnect();
      await server.stop();
    }
  });

  test('allkeys-lru: recently read keys survive over untouched ones; stats show the evictions', async () => {
    const { server, client, store } = await smallRedis('allkeys-lru');
    try {
      const old = await fillUntilEvicting(store, client, 'lru:old:');
      await sleep(1100); // the LRU clock ticks once a second
      const hot = old.slice(-Math.floor(old.length / 10) * 3, -Math.floor(old.length / 10) * 2);
      for (const k of hot) await store.get(k);
      const cold = old.filter((k) => !hot.includes(k));
      await writeMore(store, 'lru:new:', Math.floor(old.length * 0.3));
      const hotLeft = await surviving(client, hot);
      const coldLeft = await surviving(client, cold);
      report('allkeys-lru', { hot: `${hotLeft}/${hot.length}`, cold: `${coldLeft}/${cold.length}`, evicted: await evicted(client) });
      // Redis approximates LRU by sampling (docs: "Approximated LRU algorithm"), so "survive" is a rate, not all.
      expect(hotLeft / hot.length).toBeGreaterThanOrEqual(0.9);
      expect(coldLeft / cold.length).toBeLessThan(hotLeft / hot.length - 0.2);

      await setServiceEnv({ REDIS_URL: server.url, REDIS_CLUSTER_NODES: undefined });
      const local = await startLocalServer();
      try {
        const stats = (await (await fetch(`${local.url}/cache/stats`)).json()) as { redis: { evictedKeys: number; evictionPolicy: string } };
        expect(stats.redis.evictionPolicy).toBe('allkeys-lru');
        expect(stats.redis.evictedKeys).toBeGreaterThan(0);
      } finally {
        await local.close();
      }
    } finally {
      client.disconnect();
      await server.stop();
    }
  });

  test('allkeys-lfu: frequently read keys survive', async () => {
    const { server, client, store } = await smallRedis('allkeys-lfu');
    try {
      const old = await fillUntilEvicting(store, client, 'lfu:old:');
      const hot = old.slice(-Math.floor(old.length / 10) * 3, -Math.floor(old.length / 10) * 2);
      for (let round = 0; round < 20; round++) for (const k of hot) await store.get(k);
      const cold = old.filter((k) => !hot.includes(k));
      await writeMore(store, 'lfu:new:', Math.floor(old.length * 0.3));
      const hotLeft = await surviving(client, hot);
      const coldLeft = await surviving(client, cold);
      report('allkeys-lfu', { hot: `${hotLeft}/${hot.length}`, cold: `${coldLeft}/${cold.length}`, evicted: await evicted(client) });
      // LFU is approximated too (sampled keys, probabilistic counters): a rate, well above the cold keys'.
      expect(hotLeft / hot.length).toBeGreaterThanOrEqual(0.9);
      expect(coldLeft / cold.length).toBeLessThan(hotLeft / hot.length - 0.15);
    } finally {
      client.disconnect();
      await server.stop();
    }
  });

  test('volatile-lru: keys without a TTL are never evicted', async () => {
    const { server, client, store } = await smallRedis('volatile-lru');
    try {
      // Entries always carry a TTL, so the persistent keys are written directly, in the stored entry form.
      const persistent = Array.from({ length: 300 }, (_, i) => `persist:${i}`);
      for (const k of persistent) await client.set(entryKey(k), `1:0:0:"${VALUE}"`);
      const volatile = await fillUntilEvicting(store, client, 'vol:');
      await writeMore(store, 'vol:more:', Math.floor(volatile.length * 0.3));
      const persistentLeft = await surviving(client, persistent);
      report('volatile-lru', { persistent: `${persistentLeft}/${persistent.length}`, volatile: `${await surviving(client, volatile)}/${volatile.length}`, evicted: await evicted(client) });
      expect(persistentLeft).toBe(persistent.length);
      expect(await evicted(client)).toBeGreaterThan(0);
      expect((await store.get('persist:0'))!.ttl).toBeNull();
    } finally {
      client.disconnect();
      await server.stop();
    }
  });

  test('volatile-ttl: the keys closest to expiry go first', async () => {
    const { server, client, store } = await smallRedis('volatile-ttl');
    try {
      const short: string[] = [];
      const long: string[] = [];
      for (let i = 0; i < 600; i++) {
        short.push(`short:${i}`);
        await store.set(`short:${i}`, VALUE, 600);
        long.push(`long:${i}`);
        await store.set(`long:${i}`, VALUE, 86_400);
      }
      const medium = await fillUntilEvicting(store, client, 'medium:', 3600);
      await writeMore(store, 'medium:more:', 200, 3600);
      const total = await evicted(client);
      const shortLost = short.length - (await surviving(client, short));
      const longLost = long.length - (await surviving(client, long));
      report('volatile-ttl', { evicted: total, shortLost, longLost, mediumLeft: `${await surviving(client, medium)}/${medium.length}` });
      expect(longLost).toBe(0);
      expect(shortLost).toBeGreaterThan(0);
      expect(shortLost).toBeGreaterThanOrEqual(total * 0.8);
    } finally {
      client.disconnect();
      await server.stop();
    }
  });
});
