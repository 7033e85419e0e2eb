import { startLocalServer, type LocalServer } from '../lambdas/local/server';
import { entryKey } from '../lambdas/core/keyspace';
import { jsonCaller, storedExceptHitCounts } from './support/http';
import { useRedisServer } from './support/redis';

const redis = useRedisServer({}, { MAX_VALUE_BYTES: '2000', MAX_TTL_SECONDS: '86400' });
let server: LocalServer;

beforeAll(async () => {
  server = await startLocalServer();
});
afterAll(() => server?.close());
beforeEach(() => redis.client.flushall());

const call = jsonCaller(() => server.url);
const stored = () => storedExceptHitCounts(redis.client);

describe('conditional writes and ETags over HTTP', () => {
  test('GET carries the version as a strong ETag; If-None-Match answers 304 with no body', async () => {
    const created = await call('POST', '/cache', { key: 'user:1', value: { n: 1 } });
    expect(created.status).toBe(201);
    const v = created.body.version as number;
    expect(created.headers.get('etag')).toBe(`"${v}"`);
    const read = await call('GET', '/cache/user:1');
    expect(read.headers.get('etag')).toBe(`"${v}"`);
    for (const inm of [`"${v}"`, '*', `"7", "${v}"`, `W/"${v}"`]) {
      const cached = await call('GET', '/cache/user:1', undefined, { 'If-None-Match': inm });
      expect(cached.status).toBe(304);
      expect(cached.body).toBeUndefined();
      expect(cached.headers.get('etag')).toBe(`"${v}"`);
    }
    expect((await call('GET', '/cache/user:1', undefined, { 'If-None-Match': `"${v + 1}"` })).status).toBe(200);
    expect((await call('GET', '/cache?key=user:1', undefined, { 'If-None-Match': `"${v}"` })).status).toBe(304);
    expect((await call('GET', '/cache/user:1', undefined, { 'If-None-Match': 'garbage' })).status).toBe(400);
  });

  test('body conditions: 409 CONFLICT, 404, 409 VERSION_CONFLICT with the current version; nothing changes', async () => {
    const v = (await call('POST', '/cache', { key: 'k', value: 1, tags: ['t'] })).body.version as number;
    const before = await stored();
    const absent = await call('POST', '/cache', { key: 'k', value: 2, ifAbsent: true });
    expect(absent).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT', details: { currentVersion: v } } } });
    const present = await call('POST', '/cache', { key: 'new', value: 2, ifPresent: true });
    expect(present).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND', details: { currentVersion: null } } } });
    const version = await call('POST', '/cache', { key: 'k', value: 2, ifVersion: 3, tags: ['other'] });
    expect(version).toMatchObject({ status: 409, body: { error: { code: 'VERSION_CONFLICT', details: { currentVersion: v } } } });
    expect(await stored()).toEqual(before);
    const ok = await call('POST', '/cache', { key: 'k', value: 2, ifVersion: v });
    expect(ok).toMatchObject({ status: 200, body: { version: v + 1 } });
    expect(ok.headers.get('etag')).toBe(`"${v + 1}"`);
  });

  test('If-Match / If-None-Match: * on writes answer 412 with the current version; nothing changes', async () => {
    const v = (await call('POST', '/cache', { key: 'k', value: 1 })).body.version as number;
    const before = await stored();
    const stale = await call('POST', '/cache', { key: 'k', value: 2 }, { 'If-Match': '"9"' });
    expect(stale).toMatchObject({ status: 412, body: { error: { code: 'PRECONDITION_FAILED', details: { currentVersion: v } } } });
    expect((await call('POST', '/cache', { key: 'k', value: 2 }, { 'If-Match': `W/"${v}"` })).status).toBe(412);
    expect((await call('POST', '/cache', { key: 'nope', value: 2 }, { 'If-Match': '*' })).status).toBe(412);
    expect((await call('POST', '/cache', { key: 'k', value: 2 }, { 'If-None-Match': '*' })).status).toBe(412);
    expect((await call('DELETE', '/cache/k', undefined, { 'If-Match': `"${v + 1}"` })).status).toBe(412);
    expect(await stored()).toEqual(before);
    expect((await call('POST', '/cache', { key: 'k', value: 2 }, { 'If-Match': `"${v}"` })).status).toBe(200);
    expect((await call('POST', '/cache', { key: 'fresh', value: 2 }, { 'If-None-Match': '*' })).status).toBe(201);
    expect((await call('DELETE', '/cache/k', undefined, { 'If-Match': `"${v + 1}"` })).status).toBe(204);
  });

  test('bad conditions are 400s that name the problem', async () => {
    const both = await call('POST', '/cache', { key: 'k', value: 1, ifAbsent: true, ifVersion: 2 });
    expect(both).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    expect(both.body.error.message).toContain('at most one of');
    for (const body of [
      { key: 'k', value: 1, ifVersion: '2' },
      { key: 'k', value: 1, ifVersion: 1.5 },
      { key: 'k', value: 1, ifVersion: 0 },
      { key: 'k', value: 1, ifAbsent: false },
      { key: 'k', value: 1, tags: 'users' },
      { key: 'k', value: 1, tags: [''] },
      { key: 'k', value: 1, tags: ['x'.repeat(129)] },
      { key: 'k', value: 1, tags: Array.from({ length: 11 }, (_, i) => `t${i}`) },
    ]) {
      const res = await call('POST', '/cache', body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    }
    const mixed = await call('POST', '/cache', { key: 'k', value: 1, ifAbsent: true }, { 'If-Match': '"1"' });
    expect(mixed).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });
    expect((await call('POST', '/cache', { key: 'k', value: 1 }, { 'If-Match': '"1", "2"' })).status).toBe(400);
    expect(await redis.client.dbsize()).toBe(0);
  });
});

describe('TTL control over HTTP', () => {
  test('read, touch and persist; ?touch and ?sliding on GET', async () => {
    await call('POST', '/cache', { key: 'a/b', value: 1, ttl: 100 });
    expect(await call('GET', '/cache/a%2Fb/ttl')).toMatchObject({ status: 200, body: { key: 'a/b', ttl: 100 } });
    expect(await call('GET', '/cache/ttl?key=a/b')).toMatchObject({ status: 200, body: { key: 'a/b', ttl: 100 } });
    expect(await call('PUT', '/cache/a%2Fb/ttl', { ttl: 5000 })).toMatchObject({ status: 200, body: { ttl: 5000 } });
    expect(await call('PUT', '/cache/ttl?key=a/b', { ttl: 6000 })).toMatchObject({ status: 200, body: { ttl: 6000 } });
    expect(await call('DELETE', '/cache/ttl?key=a/b')).toMatchObject({ status: 200, body: { ttl: null } });
    expect(await call('DELETE', '/cache/a%2Fb/ttl')).toMatchObject({ status: 200, body: { ttl: null } });
    expect(await call('GET', '/cache?key=a/b&touch=30')).toMatchObject({ status: 200, body: { ttl: 30 } });
    await redis.client.pexpire(entryKey('a/b'), 2000);
    expect(await call('GET', '/cache?key=a/b&sliding=true')).toMatchObject({ status: 200, body: { ttl: 100, version: expect.any(Number) } });
    expect((await call('GET', '/cache/nope/ttl')).status).toBe(404);
    expect((await call('PUT', '/cache/nope/ttl', { ttl: 5 })).status).toBe(404);
    expect((await call('DELETE', '/cache/nope/ttl')).status).toBe(404);
  });

  test('bad TTLs are 400s and change nothing', async () => {
    await call('POST', '/cache', { key: 'k', value: 1, ttl: 100 });
    for (const body of [{ ttl: 0 }, { ttl: -5 }, { ttl: 1.5 }, { ttl: '60' }, { ttl: 86401 }, {}, { ttl: 5, x: 1 }]) {
      const res = await call('PUT', '/cache/k/ttl', body);
      expect(res.status).toBe(400);
    }
    for (const q of ['touch=0', 'touch=abc', 'touch=86401', 'sliding=yes', 'touch=5&sliding=true']) {
      const res = await call('GET', `/cache/k?${q}`);
      expect(res).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    }
    expect((await call('GET', '/cache/k/ttl')).body.ttl).toBe(100);
  });
});

describe('batches over HTTP', () => {
  test('set, get and delete many with per-item results', async () => {
    const set = await call('POST', '/cache/batch/set', {
      items: [
        { key: 'a', value: 1, ttl: 10, tags: ['x'] },
        { key: 'b', value: [2] },
      ],
    });
    expect(set).toMatchObject({ status: 200, body: { items: [{ key: 'a', created: true, ttl: 10 }, { key: 'b', created: true }] } });
    const get = await call('POST', '/cache/batch/get', { keys: ['a', 'zz', 'b'] });
    expect(get.body.items).toMatchObject([
      { key: 'a', found: true, value: 1, version: set.body.items[0].version, tags: ['x'] },
      { key: 'zz', found: false },
      { key: 'b', found: true, value: [2] },
    ]);
    const del = await call('POST', '/cache/batch/delete', { keys: ['a', 'zz'] });
    expect(del.body).toEqual({ items: [{ key: 'a', deleted: true }, { key: 'zz', deleted: false }] });
  });

  test('oversize batches and bad items are refused whole: 400/413 naming the limit, nothing written', async () => {
    await call('POST', '/cache', { key: 'keep', value: 'old' });
    const before = await stored();
    const many = Array.from({ length: 101 }, (_, i) => ({ key: `k${i}`, value: i }));
    const tooMany = await call('POST', '/cache/batch/set', { items: many });
    expect(tooMany).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    expect(tooMany.body.error.message).toContain('at most 100 items');
    expect((await call('POST', '/cache/batch/get', { keys: many.map((m) => m.key) })).body.error.message).toContain('at most 100 keys');
    expect((await call('POST', '/cache/batch/delete', { keys: [] })).status).toBe(400);
    const big = await call('POST', '/cache/batch/set', { items: [{ key: 'keep', value: 'new' }, { key: 'b', value: 'x'.repeat(3000) }] });
    expect(big).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', details: { limit: 2000, index: 1 } } } });
    for (const body of [
      { items: [{ key: 'keep', value: 'new' }, { key: '', value: 1 }] },
      { items: [{ key: 'keep', value: 'new' }, { key: 'c' }] },
      { items: [{ key: 'keep', value: 'new', ttl: 'soon' }] },
      { items: [{ key: 'keep', value: 'new', extra: 1 }] },
      { items: 'nope' },
      { keys: ['a'] },
    ]) {
      const res = await call('POST', '/cache/batch/set', body);
      expect(res.status).toBe(400);
    }
    expect((await call('POST', '/cache/batch/get', { keys: [1, 2] })).status).toBe(400);
    expect((await call('POST', '/cache/batch/get', '{"keys": [')).body.error.code).toBe('INVALID_JSON');
    expect(await stored()).toEqual(before);
  });

  test('keys named like static segments: readable by ?key= always, by path where no route shadows them', async () => {
    for (const key of ['batch', 'ttl', 'get']) {
      await call('POST', '/cache', { key, value: key });
      expect(await call('GET', `/cache?key=${key}`)).toMatchObject({ status: 200, body: { value: key } });
    }
    expect(await call('GET', '/cache/get')).toMatchObject({ status: 200, body: { value: 'get' } });
    // a literal segment wins over {key}, as in API Gateway (docs/entries-advanced.md, "Reserved names")
    expect(await call('GET', '/cache/batch')).toMatchObject({ status: 404, body: { error: { code: 'ROUTE_NOT_FOUND' } } });
    expect(await call('GET', '/cache/batch/ttl')).toMatchObject({ status: 404, body: { error: { code: 'ROUTE_NOT_FOUND' } } });
    expect(await call('GET', '/cache/_/ttl?key=batch')).toMatchObject({ status: 200, body: { key: 'batch' } });
    // /cache/ttl is the TTL route for ?key=: the key "ttl" itself is read by ?key=
    expect(await call('GET', '/cache/ttl?key=ttl')).toMatchObject({ status: 200, body: { key: 'ttl', ttl: 3600 } });
    expect(await call('GET', '/cache/ttl')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_KEY' } } });
  });
});

describe('tag invalidation over HTTP', () => {
  test('removes every entry carrying any listed tag, alone or with keys and prefix', async () => {
    await call('POST', '/cache/batch/set', {
      items: [
        { key: 'u1', value: 1, tags: ['users'] },
        { key: 'u2', value: 1, tags: ['users', 'eu'] },
        { key: 'p1', value: 1, tags: ['eu'] },
        { key: 'q1', value: 1 },
        { key: 'z:1', value: 1 },
      ],
    });
    expect(await call('POST', '/cache/invalidate', { tags: ['users'] })).toMatchObject({ status: 200, body: { invalidated: 2 } });
    expect(await call('POST', '/cache/invalidate', { tags: ['eu'], keys: ['q1'], prefix: 'z:' })).toMatchObject({ body: { invalidated: 3 } });
    expect(await redis.client.keys('k:*')).toEqual([]);
    expect(await redis.client.keys('_:tag*')).toEqual([]);
    for (const body of [{ tags: [] }, { tags: 'users' }, { tags: [''] }, { tags: [1] }, {}]) {
      expect((await call('POST', '/cache/invalidate', body)).status).toBe(400);
    }
  });
});
