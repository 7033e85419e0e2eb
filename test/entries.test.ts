import { EntryStore, entryJson } from '../lambdas/domain/entries';
import { CacheError } from '../lambdas/core/errors';
import { entryKey } from '../lambdas/core/keyspace';
import { useRedisServer } from './support/redis';

const redis = useRedisServer();
const limits = { defaultTtlSeconds: 600, maxTtlSeconds: 3600, maxValueBytes: 1024 };
let store: EntryStore;

beforeAll(() => {
  store = new EntryStore(redis.client, limits);
});
beforeEach(() => redis.client.flushall());

describe('EntryStore on real Redis', () => {
  test('set then get returns the value, ttl, version and timestamps', async () => {
    const written = await store.set('user:123', { name: 'John' }, 300);
    expect(written).toMatchObject({ created: true, key: 'user:123', version: expect.any(Number), ttl: 300 });
    const entry = await store.get('user:123');
    expect(entry).toMatchObject({ key: 'user:123', value: { name: 'John' }, ttl: 300, version: written.version });
    expect(entry!.createdAt).toBe(written.createdAt);
    expect(Date.parse(entry!.updatedAt!)).toBeGreaterThan(0);
  });

  test('a miss is null', async () => {
    expect(await store.get('absent')).toBeNull();
  });

  test('an overwrite bumps the version by one, keeps createdAt and reports replaced', async () => {
    const first = await store.set('k', 1);
    await new Promise((r) => setTimeout(r, 5));
    const second = await store.set('k', 2);
    expect(second).toMatchObject({ created: false, version: first.version + 1, createdAt: first.createdAt });
    expect(second.updatedAt > first.updatedAt).toBe(true);
    expect((await store.get('k'))!.value).toBe(2);
  });

  test('a stored null is a hit (negative caching)', async () => {
    await store.set('user:404', null, 60);
    const entry = await store.get('user:404');
    expect(entry).not.toBeNull();
    expect(entry!.value).toBeNull();
  });

  test('the default TTL applies when none is given', async () => {
    const written = await store.set('k', 'v');
    expect(written.ttl).toBe(600);
    const pttl = await redis.client.pttl(entryKey('k'));
    expect(pttl).toBeGreaterThan(599_000);
    expect(pttl).toBeLessThanOrEqual(600_000);
  });

  test('values of every JSON kind round-trip exactly', async () => {
    const values = ['', 'text with "quotes" and ünïcödé', 0, -1.5, 1e21, true, false, [], {}, [1, [2, [3]]], { a: { b: null } }];
    for (const [i, v] of values.entries()) await store.set(`v${i}`, v);
    for (const [i, v] of values.entries()) expect((await store.get(`v${i}`))!.value).toEqual(v);
  });

  test('a value over the size limit is refused and leaves the stored value alone', async () => {
    await store.set('big', 'small');
    await expect(store.set('big', 'x'.repeat(2000))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect((await store.get('big'))!.value).toBe('small');
  });

  test('200 concurrent writes to one key end 199 versions past the first', async () => {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.set('hot', i)));
    const first = results.find((r) => r.created)!.version;
    expect((await store.get('hot'))!.version).toBe(first + 199);
    expect(new Set(results.map((r) => r.version)).size).toBe(200);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  test('delete reports whether anything was there', async () => {
    await store.set('gone', 1);
    expect(await store.delete('gone')).toBe(true);
    expect(await store.delete('gone')).toBe(false);
    expect(await store.get('gone')).toBeNull();
  });

  test('an operation on a key of another Redis type is a WRONG_TYPE error naming that type', async () => {
    await redis.client.rpush(entryKey('a-list'), 'x');
    const error = await store.get('a-list').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheError);
    expect(error).toMatchObject({ code: 'WRONG_TYPE', details: { actualType: 'list' } });
    await expect(store.set('a-list', 1)).rejects.toMatchObject({ code: 'WRONG_TYPE' });
    expect(await redis.client.lrange(entryKey('a-list'), 0, -1)).toEqual(['x']);
  });
});

describe('invalidation', () => {
  test('by keys counts only what existed', async () => {
    await store.set('a', 1);
    await store.set('b', 2);
    expect(await store.invalidate({ keys: ['a', 'b', 'c', 'a'] })).toBe(2);
    expect(await store.get('a')).toBeNull();
  });

  test('a prefix is literal: glob characters match only themselves', async () => {
    for (const k of ['user:1', 'user:2', 'user*x', 'user?1', 'users:1', 'user[1]', 'us\\er', 'other']) await store.set(k, 1);
    expect(await store.invalidate({ prefix: 'user*' })).toBe(1);
    expect(await store.get('user:1')).not.toBeNull();
    expect(await store.invalidate({ prefix: 'user?' })).toBe(1);
    expect(await store.invalidate({ prefix: 'user[' })).toBe(1);
    expect(await store.invalidate({ prefix: 'us\\' })).toBe(1);
    expect(await store.invalidate({ prefix: 'user:' })).toBe(2);
    expect(await store.get('users:1')).not.toBeNull();
    expect(await store.get('other')).not.toBeNull();
  });

  test('keys and prefix together', async () => {
    await store.set('p:1', 1);
    await store.set('q', 1);
    expect(await store.invalidate({ keys: ['q'], prefix: 'p:' })).toBe(2);
  });

  test('prefix invalidation over 100k keys removes exactly the matching ones, by SCAN', async () => {
    const pipeline = redis.client.pipeline();
    for (let i = 0; i < 100_000; i++) pipeline.set(entryKey(`bulk:${i}`), `1:0:0:${i}`);
    for (let i = 0; i < 1000; i++) pipeline.set(entryKey(`keep:${i}`), `1:0:0:${i}`);
    await pipeline.exec();
    const monitor = await redis.client.monitor();
    const commands = new Set<string>();
    monitor.on('monitor', (_time: string, args: string[]) => commands.add(String(args[0]).toLowerCase()));
    expect(await store.invalidate({ prefix: 'bulk:' })).toBe(100_000);
    monitor.disconnect();
    expect(commands.has('keys')).toBe(false);
    expect(commands.has('scan')).toBe(true);
    expect(await redis.client.dbsize()).toBe(1000);
  });
});

describe('entryJson', () => {
  test('an entry read from Redis serializes with its stored value text, exactly as JSON.stringify would', async () => {
    const values = [null, 0, -1.5, true, 'plain', 'a"b\\c\u2028é😀', [], {}, { nested: [1, { deep: 'x' }], n: null }];
    for (const [i, value] of values.entries()) {
      const key = `k"${i}é`;
      await store.set(key, value, i % 2 ? undefined : 300, i % 3 ? {} : { tags: ['t1', 't"2'] });
      const entry = (await store.get(key))!;
      expect(entryJson(entry)).toBe(JSON.stringify(entry));
      expect(JSON.parse(entryJson(entry)).value).toEqual(value);
    }
    await redis.client.set(entryKey('foreign'), 'not our format');
    const foreign = (await store.get('foreign'))!;
    expect(entryJson(foreign)).toBe(JSON.stringify(foreign));
  });
});
