import { deleteMany, getMany, setMany } from '../lambdas/domain/batch';
import { EntryStore } from '../lambdas/domain/entries';
import { entryKey } from '../lambdas/core/keyspace';
import { whenReady } from '../lambdas/core/readiness';
import { createRedisClient } from '../lambdas/core/redis';
import { useRedisServer } from './support/redis';
import { countRoundTrips } from './support/round-trips';

const redis = useRedisServer();
const limits = { defaultTtlSeconds: 600, maxTtlSeconds: 3600, maxValueBytes: 1024 };
let store: EntryStore;

beforeAll(async () => {
  // the service's own client settings (auto-pipelining, no offline queue), as the handlers use them
  store = new EntryStore(createRedisClient({ url: redis.server.url, timeoutMs: 2000 }), limits);
  await whenReady(store.redis, 5000);
});
afterAll(() => store?.redis.disconnect());
beforeEach(() => redis.client.flushall());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Everything stored, to prove a refused operation changed nothing. */
async function snapshot(): Promise<Record<string, [string | null, number]>> {
  const keys = (await redis.client.keys('*')).filter((k) => !k.startsWith('_:stats')).sort();
  const out: Record<string, [string | null, number]> = {};
  for (const k of keys) {
    const type = await redis.client.type(k);
    const value = type === 'string' ? await redis.client.get(k) : JSON.stringify(await redis.client.zrange(k, '0', '-1', 'WITHSCORES'));
    out[k] = [value, Math.round((await redis.client.pttl(k)) / 10_000)];
  }
  return out;
}

describe('conditional writes', () => {
  test('ifAbsent creates once, then refuses with CONFLICT and the current version, changing nothing', async () => {
    const { version } = await store.set('k', 1, 60, { condition: { ifAbsent: true } });
    const before = await snapshot();
    await expect(store.set('k', 2, 60, { condition: { ifAbsent: true }, tags: ['t'] })).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { currentVersion: version },
    });
    expect(await snapshot()).toEqual(before);
  });

  test('ifPresent refuses a missing key with NOT_FOUND and writes nothing; replaces a present one', async () => {
    await expect(store.set('k', 1, 60, { condition: { ifPresent: true } })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      details: { currentVersion: null },
    });
    expect(await redis.client.dbsize()).toBe(0);
    const { version } = await store.set('k', 1);
    expect(await store.set('k', 2, 60, { condition: { ifPresent: true } })).toMatchObject({ created: false, version: version + 1 });
  });

  test('ifVersion applies only at that version (compare-and-set), else VERSION_CONFLICT with the current one', async () => {
    const { version: first } = await store.set('k', 'a');
    await store.set('k', 'b');
    const before = await snapshot();
    await expect(store.set('k', 'x', 60, { condition: { ifVersion: first } })).rejects.toMatchObject({
      code: 'VERSION_CONFLICT',
      details: { currentVersion: first + 1 },
    });
    await expect(store.set('absent', 'x', 60, { condition: { ifVersion: first } })).rejects.toMatchObject({
      details: { currentVersion: null },
    });
    expect(await snapshot()).toEqual(before);
    expect(await store.set('k', 'c', 60, { condition: { ifVersion: first + 1 } })).toMatchObject({ version: first + 2 });
    expect((await store.get('k'))!.value).toBe('c');
  });

  test('of 50 concurrent compare-and-sets at one version exactly one wins', async () => {
    const { version } = await store.set('k', 0);
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => store.set('k', i, 60, { condition: { ifVersion: version } })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await store.get('k'))!.version).toBe(version + 1);
  });

  test('a conditional delete removes only at the expected version', async () => {
    const { version } = await store.set('k', 1);
    await expect(store.delete('k', { ifVersion: 7 })).rejects.toMatchObject({ code: 'VERSION_CONFLICT', details: { currentVersion: version } });
    await expect(store.delete('missing', { ifVersion: '*' })).rejects.toMatchObject({ details: { currentVersion: null } });
    expect(await store.get('k')).not.toBeNull();
    expect(await store.delete('k', { ifVersion: version })).toBe(true);
  });
});

describe('TTL control', () => {
  test('read, touch and persist change the expiry but not the value or version', async () => {
    const { version } = await store.set('k', { a: 1 }, 100);
    expect(await store.ttl('k')).toEqual({ key: 'k', ttl: 100 });
    expect(await store.touch('k', 2000)).toEqual({ key: 'k', ttl: 2000 });
    expect(await redis.client.pttl(entryKey('k'))).toBeGreaterThan(1_999_000);
    expect(await store.persist('k')).toEqual({ key: 'k', ttl: null });
    expect(await redis.client.pttl(entryKey('k'))).toBe(-1);
    expect(await store.get('k')).toMatchObject({ value: { a: 1 }, version, ttl: null });
  });

  test('a missing key has no TTL to read, touch or persist', async () => {
    expect(await store.ttl('nope')).toBeNull();
    expect(await store.touch('nope', 5)).toBeNull();
    expect(await store.persist('nope')).toBeNull();
    expect(await redis.client.dbsize()).toBe(0);
  });

  test('TTL control works on keys of other Redis types too', async () => {
    await redis.client.rpush(entryKey('list'), 'x');
    expect(await store.ttl('list')).toEqual({ key: 'list', ttl: null });
    expect(await store.touch('list', 30)).toEqual({ key: 'list', ttl: 30 });
  });

  test('GET with touch sets a new expiry; sliding re-applies the ttl of the last write', async () => {
    await store.set('k', 1, 100);
    await redis.client.pexpire(entryKey('k'), 5000);
    expect((await store.get('k', { touchTtlSeconds: 50 }))!.ttl).toBe(50);
    await redis.client.pexpire(entryKey('k'), 5000);
    expect((await store.get('k', { sliding: true }))!.ttl).toBe(100);
    expect(await redis.client.pttl(entryKey('k'))).toBeGreaterThan(99_000);
    await store.persist('k');
    expect((await store.get('k', { sliding: true }))!.ttl).toBeNull();
    expect(await store.get('nope', { touchTtlSeconds: 5 })).toBeNull();
  });

  test('entries in the first stored form (no ttl, no tags) still read, overwrite and slide', async () => {
    await redis.client.set(entryKey('old'), '4:1000:2000:{"x":1}', 'PX', 60_000);
    expect(await store.get('old', { sliding: true })).toMatchObject({ value: { x: 1 }, version: 4, tags: [] });
    expect(await store.set('old', 2, 60)).toMatchObject({ created: false, version: 5, createdAt: new Date(1000).toISOString() });
    await redis.client.set(entryKey('plain'), 'not json at all');
    expect(await store.get('plain')).toMatchObject({ value: 'not json at all', version: 0 });
    await redis.client.set(entryKey('digits'), '1:2:3:not json');
    expect(await store.get('digits')).toMatchObject({ value: '1:2:3:not json', version: 0 });
  });
});

describe('tags', () => {
  const index = (tag: string) => `_:tag:${tag}`;

  test('invalidating a tag removes exactly the entries carrying it', async () => {
    await store.set('u1', 1, 60, { tags: ['users', 'eu'] });
    await store.set('u2', 2, 60, { tags: ['users'] });
    await store.set('p1', 3, 60, { tags: ['products', 'eu'] });
    await store.set('plain', 4, 60);
    expect(await store.invalidate({ tags: ['users'] })).toBe(2);
    expect(await store.get('u1')).toBeNull();
    expect(await store.get('p1')).not.toBeNull();
    expect(await store.get('plain')).not.toBeNull();
    // u1 left its other tag's index as it was deleted
    expect(await redis.client.zrange(index('eu'), '0', '-1')).toEqual([entryKey('p1')]);
    expect(await redis.client.exists(index('users'))).toBe(0);
    expect(await store.invalidate({ tags: ['eu', 'products', 'none'] })).toBe(1);
  });

  test('an overwrite replaces the tags: the key leaves the indexes of tags it lost', async () => {
    await store.set('k', 1, 60, { tags: ['a', 'b'] });
    await store.set('k', 2, 60, { tags: ['b', 'c'] });
    expect(await redis.client.exists(index('a'))).toBe(0);
    expect(await store.invalidate({ tags: ['a'] })).toBe(0);
    expect((await store.get('k'))!.tags).toEqual(['b', 'c']);
    await store.set('k', 3, 60);
    expect(await redis.client.exists(index('b'), index('c'))).toBe(0);
  });

  test('deleted entries drop out of their tag indexes, by delete, batch delete and key/prefix invalidation', async () => {
    for (const k of ['d1', 'd2', 'd3', 'p:4']) await store.set(k, 1, 60, { tags: ['t'] });
    await store.delete('d1');
    await deleteMany(store, ['d2']);
    await store.invalidate({ keys: ['d3'] });
    expect(await redis.client.zrange(index('t'), '0', '-1')).toEqual([entryKey('p:4')]);
    await store.invalidate({ prefix: 'p:' });
    expect(await redis.client.exists(index('t'))).toBe(0);
  });

  test('expired entries drop out: pruned at the next write of the tag, and the index expires with its last member', async () => {
    await store.set('short', 1, 1, { tags: ['t'] });
    await store.set('long', 1, 60, { tags: ['t'] });
    expect(await redis.client.zcard(index('t'))).toBe(2);
    await sleep(1100);
    await store.set('other', 1, 60, { tags: ['t'] });
    expect(await redis.client.zrange(index('t'), '0', '-1')).toEqual([entryKey('long'), entryKey('other')]);
    await store.set('alone', 1, 1, { tags: ['solo'] });
    const pttl = await redis.client.pttl(index('solo'));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(2000);
  });

  test('touch, persist and sliding reads move the index score with the expiry', async () => {
    await store.set('k', 1, 10, { tags: ['t'] });
    const score = async () => Number(await redis.client.zscore(index('t'), entryKey('k')));
    const first = await score();
    await store.touch('k', 1000);
    expect((await score()) - first).toBeGreaterThan(900_000);
    await store.persist('k');
    expect(await redis.client.zscore(index('t'), entryKey('k'))).toBe('inf');
    expect(await redis.client.pttl(index('t'))).toBe(-1);
    await store.get('k', { touchTtlSeconds: 20 });
    expect((await score()) - Date.now()).toBeLessThanOrEqual(20_000);
  });

  test('a stale index member (entry evicted, key reused) never makes invalidation delete what does not carry the tag', async () => {
    await store.set('k', 1, 60, { tags: ['t'] });
    await redis.client.del(entryKey('k')); // as an eviction would: the index is not told
    await redis.client.rpush(entryKey('k'), 'a list now');
    await store.set('other', 1, 60, { tags: ['u'] });
    await redis.client.zadd(index('t'), Date.now() + 60_000, entryKey('other'));
    expect(await store.invalidate({ tags: ['t'] })).toBe(0);
    expect(await redis.client.lrange(entryKey('k'), 0, -1)).toEqual(['a list now']);
    expect(await store.get('other')).not.toBeNull();
    expect(await redis.client.exists(index('t'))).toBe(0);
  });

  test('tags with any characters, non-ASCII included, round-trip and invalidate', async () => {
    const tags = ['ünï cödé', '日本', 'emoji 🎉', 'a"b\\c', '{braces}:x'];
    await store.set('k', 1, 60, { tags });
    expect((await store.get('k'))!.tags).toEqual(tags);
    expect(await store.invalidate({ tags: ['emoji 🎉'] })).toBe(1);
    expect(await redis.client.keys('_:tag:*')).toEqual([]);
  });

  test('invalidating a tag with thousands of entries works chunk by chunk', async () => {
    await setMany(store, Array.from({ length: 100 }, (_, i) => ({ key: `x${i}`, value: i, tags: ['big'] })));
    for (let round = 0; round < 20; round++) {
      await setMany(store, Array.from({ length: 100 }, (_, i) => ({ key: `r${round}:${i}`, value: i, tags: ['big'] })));
    }
    await setMany(store, Array.from({ length: 30 }, (_, i) => ({ key: `s${i}`, value: i, tags: ['small'] })));
    expect(await redis.client.zcard(index('big'))).toBe(2100);
    expect(await store.invalidate({ tags: ['big', 'small'] })).toBe(2130);
    expect(await redis.client.dbsize()).toBe(0);
  });
});

describe('batches', () => {
  test('set, get and delete many, in request order with per-item results', async () => {
    const written = await setMany(store, [
      { key: 'a', value: 1, ttl: 10 },
      { key: 'b', value: { x: [1] }, ttl: 20, tags: ['t'] },
      { key: 'a', value: 2 },
    ]);
    const [a, b] = written as { version: number }[];
    expect(written).toMatchObject([
      { key: 'a', created: true, version: expect.any(Number), ttl: 10 },
      { key: 'b', created: true, version: expect.any(Number), ttl: 20 },
      { key: 'a', created: false, version: a.version + 1, ttl: 600 },
    ]);
    const read = await getMany(store, ['b', 'missing', 'a']);
    expect(read).toMatchObject([
      { key: 'b', found: true, value: { x: [1] }, ttl: 20, version: b.version, tags: ['t'] },
      { key: 'missing', found: false },
      { key: 'a', found: true, value: 2, version: a.version + 1 },
    ]);
    expect(await redis.client.hgetall('_:stats')).toEqual({ hits: '2', misses: '1' });
    expect(await deleteMany(store, ['a', 'missing', 'a'])).toEqual([
      { key: 'a', deleted: true },
      { key: 'missing', deleted: false },
      { key: 'a', deleted: false },
    ]);
  });

  test('a key of another type gets its own error; the other items are served', async () => {
    await redis.client.sadd(entryKey('s'), 'x');
    expect(await getMany(store, ['s'])).toEqual([
      { key: 's', found: false, error: expect.objectContaining({ code: 'WRONG_TYPE', details: { actualType: 'set' } }) },
    ]);
    const written = await setMany(store, [{ key: 's', value: 1 }, { key: 'ok', value: 1 }]);
    expect(written[0]).toMatchObject({ key: 's', error: { code: 'WRONG_TYPE' } });
    expect(written[1]).toMatchObject({ key: 'ok', created: true });
    expect(await redis.client.smembers(entryKey('s'))).toEqual(['x']);
  });

  test('an oversize value anywhere in a batch writes nothing', async () => {
    await store.set('a', 'kept');
    const before = await snapshot();
    await expect(
      setMany(store, [{ key: 'a', value: 'new' }, { key: 'b', value: 'x'.repeat(2000) }]),
    ).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { index: 1 } });
    expect(await snapshot()).toEqual(before);
  });

  test('a batch of 100 writes, reads or deletes costs one round trip each', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    const counted = async (what: string, work: () => Promise<unknown>) => {
      const [roundTrips] = Object.values(await countRoundTrips(store.redis, work));
      console.log(`${what} of 100 keys: ${roundTrips} round trip(s)`);
      return roundTrips;
    };
    expect(await counted('batch set', () => setMany(store, keys.map((key, i) => ({ key, value: i }))))).toBe(1);
    expect(await counted('batch get', () => getMany(store, keys))).toBe(1);
    expect(await counted('batch delete', () => deleteMany(store, keys))).toBe(1);
  });

  test('reading 100 keys: one batch against 100 sequential GETs (printed ratio, no timing assertion)', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    await setMany(store, keys.map((key, i) => ({ key, value: { i, pad: 'x'.repeat(100) } })));
    const time = async (work: () => Promise<unknown>) => {
      const start = process.hrtime.bigint();
      for (let round = 0; round < 5; round++) await work();
      return Number(process.hrtime.bigint() - start) / 5e6;
    };
    const sequential = await time(async () => {
      for (const k of keys) await store.get(k);
    });
    const batched = await time(() => getMany(store, keys));
    console.log(`100 keys: sequential GETs ${sequential.toFixed(2)} ms, one batch ${batched.toFixed(2)} ms, ratio ${(sequential / batched).toFixed(1)}x`);
    expect((await getMany(store, keys)).every((i) => i.found)).toBe(true);
  });

});
