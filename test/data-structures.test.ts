import { CounterStore } from '../lambdas/domain/counters';
import { EntryStore } from '../lambdas/domain/entries';
import { HashStore } from '../lambdas/domain/hashes';
import { ListStore } from '../lambdas/domain/lists';
import { SetStore } from '../lambdas/domain/sets';
import { parseScoreBound, SortedSetStore } from '../lambdas/domain/sorted-sets';
import { entryKey } from '../lambdas/core/keyspace';
import { useRedisServer } from './support/redis';

const redis = useRedisServer();
const limits = { defaultTtlSeconds: 600, maxTtlSeconds: 3600, maxElementBytes: 100, maxCollectionSize: 5, maxPopBytes: 20 };
let lists: ListStore;
let sets: SetStore;
let hashes: HashStore;
let zsets: SortedSetStore;
let counters: CounterStore;
let entries: EntryStore;

beforeAll(() => {
  lists = new ListStore(redis.client, limits);
  sets = new SetStore(redis.client, limits);
  hashes = new HashStore(redis.client, limits);
  zsets = new SortedSetStore(redis.client, limits);
  counters = new CounterStore(redis.client, limits);
  entries = new EntryStore(redis.client, { ...limits, maxValueBytes: 1000 });
});
beforeEach(() => redis.client.flushall());

const pttl = (key: string) => redis.client.pttl(entryKey(key));

describe('lists', () => {
  test('push right and left, range, size, pop from both ends, trim', async () => {
    expect(await lists.push('l', [1, 'two', { three: 3 }])).toEqual({ created: true, key: 'l', size: 3, ttl: 600 });
    expect(await lists.push('l', [0, -1], 'left')).toMatchObject({ created: false, size: 5 });
    expect((await lists.range('l'))!.values).toEqual([-1, 0, 1, 'two', { three: 3 }]);
    expect(await lists.range('l', 1, 2)).toEqual({ key: 'l', values: [0, 1], size: 5, ttl: 600 });
    expect(await lists.size('l')).toBe(5);
    expect(await lists.pop('l', 'right', 2)).toEqual({ key: 'l', values: [{ three: 3 }, 'two'], size: 3 });
    expect(await lists.pop('l', 'left')).toEqual({ key: 'l', values: [-1], size: 2 });
    expect(await lists.trim('l', 1, -1)).toBe(1);
    expect((await lists.range('l'))!.values).toEqual([1]);
  });

  test('a missing list: range is null, size 0, pop is empty, trim 0, delete false', async () => {
    expect(await lists.range('none')).toBeNull();
    expect(await lists.size('none')).toBe(0);
    expect(await lists.pop('none', 'left', 3)).toEqual({ key: 'none', values: [], size: 0 });
    expect(await lists.trim('none', 0, 1)).toBe(0);
    expect(await lists.delete('none')).toBe(false);
  });

  test('a pop stops before its values would pass the byte budget, leaving the rest in place', async () => {
    await lists.push('l', ['a'.repeat(8), 'b'.repeat(8), 'c'.repeat(8), 'd'.repeat(30)]);
    expect(await lists.pop('l', 'left', 4)).toEqual({ key: 'l', values: ['a'.repeat(8), 'b'.repeat(8)], size: 2 });
    expect(await lists.pop('l', 'right', 4)).toEqual({ key: 'l', values: ['d'.repeat(30)], size: 1 });
    await sets.add('s', ['a'.repeat(8), 'b'.repeat(8), 'c'.repeat(8)]);
    const popped = await sets.pop('s', 3);
    expect(popped.members).toHaveLength(2);
    expect(popped.size).toBe(1);
    expect(await sets.size('s')).toBe(1);
  });

  test('popping the last value removes the key', async () => {
    await lists.push('l', ['x']);
    await lists.pop('l', 'left', 5);
    expect(await redis.client.exists(entryKey('l'))).toBe(0);
  });

  test('the TTL: default on create, kept on later pushes, replaced when given', async () => {
    await lists.push('l', [1], 'right', 100);
    expect(await pttl('l')).toBeGreaterThan(99_000);
    await lists.push('l', [2]);
    expect(await pttl('l')).toBeLessThanOrEqual(100_000);
    expect((await lists.push('l', [3], 'right', 2000)).ttl).toBe(2000);
    expect(await pttl('l')).toBeGreaterThan(1_999_000);
    await lists.push('m', [1]);
    expect(await pttl('m')).toBeGreaterThan(599_000);
    expect(await lists.push('m', [1], 'right', 99_999)).toMatchObject({ ttl: 3600 });
  });

  test('the size cap refuses a push that would pass it and stores nothing', async () => {
    await lists.push('l', [1, 2, 3]);
    await expect(lists.push('l', [4, 5, 6])).rejects.toMatchObject({ code: 'CONFLICT', details: { limit: 5, size: 6 } });
    expect((await lists.range('l'))!.values).toEqual([1, 2, 3]);
  });

  test('an oversize value is refused before Redis is asked', async () => {
    await expect(lists.push('l', [1, 'x'.repeat(200)])).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      details: { field: 'values.1', limit: 100 },
    });
    expect(await redis.client.exists(entryKey('l'))).toBe(0);
  });

  test('delete removes a list but refuses a key of another type', async () => {
    await lists.push('l', [1]);
    await entries.set('e', 1);
    expect(await lists.delete('l')).toBe(true);
    await expect(lists.delete('e')).rejects.toMatchObject({ code: 'WRONG_TYPE', details: { actualType: 'string' } });
    expect((await entries.get('e'))!.value).toBe(1);
  });
});

describe('sets', () => {
  test('add, duplicates counted once, members, contains, remove, size, pop', async () => {
    expect(await sets.add('s', [1, '1', 1, { a: 1 }])).toEqual({ created: true, key: 's', added: 3, size: 3, ttl: 600 });
    expect(await sets.add('s', [1, 2])).toMatchObject({ created: false, added: 1, size: 4 });
    const all = await sets.members('s');
    expect(all!.size).toBe(4);
    expect(all!.members).toEqual(expect.arrayContaining([1, '1', { a: 1 }, 2]));
    expect(await sets.contains('s', [1, 3, '1', { a: 1 }])).toEqual([true, false, true, true]);
    expect(await sets.remove('s', [1, 99])).toEqual({ key: 's', removed: 1, size: 3 });
    expect(await sets.size('s')).toBe(3);
    const popped = await sets.pop('s', 2);
    expect(popped.members).toHaveLength(2);
    expect(popped.size).toBe(1);
    expect(await sets.members('none')).toBeNull();
    expect(await sets.contains('none', [1])).toEqual([false]);
    expect(await sets.pop('none', 2)).toEqual({ key: 'none', members: [], size: 0 });
  });

  test('the cap counts only new members', async () => {
    await sets.add('s', [1, 2, 3, 4]);
    expect(await sets.add('s', [1, 2, 3, 4, 5, 5])).toMatchObject({ added: 1, size: 5 });
    await expect(sets.add('s', [1, 6])).rejects.toMatchObject({ code: 'CONFLICT', details: { size: 6 } });
    expect(await sets.size('s')).toBe(5);
  });
});

describe('hashes', () => {
  test('set, get some, get all, remove, increment', async () => {
    expect(await hashes.set('h', { a: 1, b: 'x', c: null })).toEqual({ created: true, key: 'h', added: 3, updated: 0, size: 3, ttl: 600 });
    expect(await hashes.set('h', { a: 2, d: [1] })).toMatchObject({ created: false, added: 1, updated: 1, size: 4 });
    expect(await hashes.get('h', ['a', 'c', 'zz'])).toEqual({ key: 'h', fields: { a: 2, c: null }, missing: ['zz'] });
    expect(await hashes.getAll('h')).toEqual({ key: 'h', fields: { a: 2, b: 'x', c: null, d: [1] }, size: 4, ttl: 600 });
    expect(await hashes.remove('h', ['b', 'nope'])).toEqual({ key: 'h', removed: 1, size: 3 });
    expect(await hashes.increment('h', 'a', 5)).toMatchObject({ created: false, value: 7 });
    expect(await hashes.increment('h', 'n', -3)).toMatchObject({ value: -3 });
    expect(await hashes.size('h')).toBe(4);
    expect(await hashes.getAll('none')).toBeNull();
  });

  test('incrementing a non-integer or past the safe range is refused and changes nothing', async () => {
    await hashes.set('h', { f: 1.5, s: 'text', big: Number.MAX_SAFE_INTEGER - 1 });
    await expect(hashes.increment('h', 'f', 1)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(hashes.increment('h', 's', 1)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(hashes.increment('h', 'big', 2)).rejects.toMatchObject({ code: 'CONFLICT', details: { limit: Number.MAX_SAFE_INTEGER } });
    expect((await hashes.increment('h', 'big', 1)).value).toBe(Number.MAX_SAFE_INTEGER);
    expect((await hashes.get('h', ['f', 's'])).fields).toEqual({ f: 1.5, s: 'text' });
  });
});

describe('sorted sets', () => {
  test('add, ranges by rank and score, rank, scores, increment, count, remove', async () => {
    expect(await zsets.add('z', [{ member: 'a', score: 1 }, { member: 'b', score: 2 }, { member: { c: 3 }, score: 3.5 }])).toEqual({
      created: true, key: 'z', added: 3, updated: 0, size: 3, ttl: 600,
    });
    expect((await zsets.rangeByRank('z'))!.members).toEqual(['a', 'b', { c: 3 }]);
    expect((await zsets.rangeByRank('z', 0, 1, { reverse: true, withScores: true }))!.members).toEqual([
      { member: { c: 3 }, score: 3.5 },
      { member: 'b', score: 2 },
    ]);
    expect((await zsets.rangeByScore('z', '(1', '+inf'))!.members).toEqual(['b', { c: 3 }]);
    expect((await zsets.rangeByScore('z', '-inf', '+inf', { reverse: true, offset: 1, limit: 1 }))!.members).toEqual(['b']);
    expect(await zsets.rank('z', { c: 3 })).toEqual({ key: 'z', member: { c: 3 }, rank: 2, score: 3.5 });
    expect(await zsets.rank('z', 'a', true)).toMatchObject({ rank: 2, score: 1 });
    expect(await zsets.rank('z', 'nope')).toMatchObject({ rank: null, score: null });
    expect(await zsets.scores('z', ['a', 'x', 'b'])).toEqual([1, null, 2]);
    expect(await zsets.increment('z', 'a', 0.25)).toMatchObject({ created: false, score: 1.25 });
    expect(await zsets.increment('z', 'new', -2)).toMatchObject({ score: -2 });
    expect(await zsets.count('z', '0', '2')).toBe(2);
    expect(await zsets.count('z')).toBe(4);
    expect(await zsets.remove('z', ['new', 'x'])).toEqual({ key: 'z', removed: 1, size: 3 });
    expect(await zsets.size('z')).toBe(3);
    expect(await zsets.rangeByRank('none')).toBeNull();
  });

  test('NX, XX, GT and LT', async () => {
    await zsets.add('z', [{ member: 'a', score: 5 }]);
    expect(await zsets.add('z', [{ member: 'a', score: 1 }, { member: 'b', score: 1 }], { nx: true })).toMatchObject({ added: 1, updated: 0 });
    expect(await zsets.add('z', [{ member: 'a', score: 2 }, { member: 'c', score: 1 }], { xx: true })).toMatchObject({ added: 0, updated: 1, size: 2 });
    expect(await zsets.add('z', [{ member: 'a', score: 1 }], { gt: true })).toMatchObject({ updated: 0 });
    expect(await zsets.add('z', [{ member: 'a', score: 9 }], { gt: true })).toMatchObject({ updated: 1 });
    expect(await zsets.add('z', [{ member: 'a', score: 10 }], { lt: true })).toMatchObject({ updated: 0 });
    expect(await zsets.scores('z', ['a', 'b'])).toEqual([9, 1]);
    await expect(zsets.add('z', [{ member: 'a', score: 1 }], { nx: true, xx: true })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await zsets.add('absent', [{ member: 'a', score: 1 }], { xx: true })).toMatchObject({ added: 0, size: 0, ttl: null });
    expect(await redis.client.exists(entryKey('absent'))).toBe(0);
  });

  test('scores stay finite: an increment to infinity is refused', async () => {
    await zsets.add('z', [{ member: 'a', score: 1.7e308 }]);
    await expect(zsets.increment('z', 'a', 1.7e308)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await zsets.scores('z', ['a'])).toEqual([1.7e308]);
    await expect(zsets.add('z', [{ member: 'b', score: Number.NaN }])).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  test('score bounds', () => {
    expect(parseScoreBound('1.5')).toBe('1.5');
    expect(parseScoreBound('(2')).toBe('(2');
    expect(parseScoreBound('-inf')).toBe('-inf');
    expect(parseScoreBound('inf')).toBe('+inf');
    for (const bad of ['', 'abc', 'NaN', 'Infinity', '1e999', '((1', '1,5', '0x10']) expect(parseScoreBound(bad)).toBeNull();
  });
});

describe('counters', () => {
  test('created at 0 with the default TTL, incremented and decremented, read as an entry', async () => {
    const first = await counters.increment('c', 1);
    const v = first.version;
    expect(first).toMatchObject({ created: true, key: 'c', value: 1, version: expect.any(Number), ttl: 600 });
    expect(await counters.increment('c', -5)).toMatchObject({ created: false, value: -4, version: v + 1, createdAt: first.createdAt });
    expect(await entries.get('c')).toMatchObject({ value: -4, version: v + 1 });
    await entries.set('c', 10, 100);
    expect(await counters.increment('c', 1)).toMatchObject({ value: 11, version: v + 3, ttl: 100 });
    expect(await counters.increment('c', 1, 50)).toMatchObject({ ttl: 50 });
  });

  test('a tagged counter keeps its tags and stays reachable by tag invalidation', async () => {
    const { version } = await entries.set('tc', 5, 100, { tags: ['team:a'] });
    expect(await counters.increment('tc', 2, 200)).toMatchObject({ value: 7, version: version + 1, ttl: 200 });
    expect(await entries.get('tc')).toMatchObject({ value: 7, tags: ['team:a'] });
    expect(await entries.invalidate({ tags: ['team:a'] })).toBe(1);
    expect(await entries.get('tc')).toBeNull();
  });

  test('a non-integer entry, an overflow and a wrong type are refused and change nothing', async () => {
    await entries.set('f', 1.5);
    await expect(counters.increment('f', 1)).rejects.toMatchObject({ code: 'CONFLICT' });
    const { version } = await entries.set('big', Number.MAX_SAFE_INTEGER);
    await expect(counters.increment('big', 1)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await entries.get('big')).toMatchObject({ value: Number.MAX_SAFE_INTEGER, version });
    await lists.push('l', [1]);
    await expect(counters.increment('l', 1)).rejects.toMatchObject({ code: 'WRONG_TYPE', details: { actualType: 'list' } });
    await expect(counters.increment('x', 0.5)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('concurrency', () => {
  test('200 concurrent increments and pushes lose nothing', async () => {
    const n = 200;
    const results = await Promise.all(Array.from({ length: n }, () => counters.increment('hot', 1)));
    expect(new Set(results.map((r) => r.version)).size).toBe(n);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const first = results.find((r) => r.created)!.version;
    expect(await entries.get('hot')).toMatchObject({ value: n, version: first + n - 1 });
    const big = { ...limits, maxCollectionSize: 10_000 };
    const h = new HashStore(redis.client, big);
    const l = new ListStore(redis.client, big);
    const z = new SortedSetStore(redis.client, big);
    await Promise.all(Array.from({ length: n }, (_, i) => Promise.all([h.increment('h', 'n', 1), l.push('l', [i]), z.increment('z', 'm', 0.5)])));
    expect((await h.get('h', ['n'])).fields).toEqual({ n });
    expect(await l.size('l')).toBe(n);
    expect(await z.scores('z', ['m'])).toEqual([n / 2]);
  });
});

describe('round trips', () => {
  test('every operation is one command to Redis (once its script is loaded)', async () => {
    const counted = redis.client.duplicate();
    let sent = 0;
    const send = counted.sendCommand.bind(counted);
    counted.sendCommand = ((...args: Parameters<typeof send>) => {
      sent++;
      return send(...args);
    }) as typeof send;
    const l = new ListStore(counted, limits);
    const s = new SetStore(counted, limits);
    const h = new HashStore(counted, limits);
    const z = new SortedSetStore(counted, limits);
    const c = new CounterStore(counted, limits);
    const operations: (() => Promise<unknown>)[] = [
      () => l.push('l', [1, 2], 'right', 60),
      () => l.pop('l', 'left', 1),
      () => l.range('l'),
      () => l.size('l'),
      () => l.trim('l', 0, 0),
      () => s.add('s', [1], 60),
      () => s.remove('s', [2]),
      () => s.members('s'),
      () => s.contains('s', [1, 2]),
      () => s.size('s'),
      () => s.pop('s', 1),
      () => h.set('h', { a: 1 }, 60),
      () => h.get('h', ['a']),
      () => h.getAll('h'),
      () => h.increment('h', 'a', 1, 60),
      () => h.remove('h', ['b']),
      () => h.size('h'),
      () => z.add('z', [{ member: 'a', score: 1 }], { gt: true }, 60),
      () => z.rangeByRank('z', 0, -1, { withScores: true }),
      () => z.rangeByScore('z', '-inf', '+inf', { offset: 0, limit: 5 }),
      () => z.rank('z', 'a'),
      () => z.scores('z', ['a']),
      () => z.increment('z', 'a', 1, 60),
      () => z.count('z'),
      () => z.size('z'),
      () => z.remove('z', ['b']),
      () => c.increment('c', 1, 60),
      () => l.delete('l'),
    ];
    try {
      for (const op of operations) await op(); // loads every script once
      await redis.client.flushall();
      for (const op of operations) {
        sent = 0;
        await op();
        expect({ op: op.toString(), sent }).toEqual({ op: op.toString(), sent: 1 });
      }
    } finally {
      counted.disconnect();
    }
  });
});

describe('wrong types', () => {
  test('every collection refuses a key of another type with a 409 naming it, leaving the data alone', async () => {
    await entries.set('e', 'v');
    await sets.add('s', [1]);
    const calls: [string, () => Promise<unknown>][] = [
      ['push', () => lists.push('e', [1])],
      ['range', () => lists.range('s')],
      ['llen', () => lists.size('e')],
      ['sadd', () => sets.add('e', [1])],
      ['sismember', () => sets.contains('e', [1])],
      ['hset', () => hashes.set('s', { a: 1 })],
      ['hmget', () => hashes.get('e', ['a'])],
      ['zadd', () => zsets.add('e', [{ member: 1, score: 1 }])],
      ['zcount', () => zsets.count('s')],
      ['zincr', () => zsets.increment('s', 1, 1)],
    ];
    for (const [, call] of calls) {
      await expect(call()).rejects.toMatchObject({ code: 'WRONG_TYPE', details: { actualType: expect.stringMatching(/^(string|set)$/) } });
    }
    await expect(lists.push('s', [1])).rejects.toMatchObject({ details: { actualType: 'set', expectedType: 'list' } });
    expect((await entries.get('e'))!.value).toBe('v');
    expect(await sets.members('s')).toMatchObject({ members: [1] });
  });
});
