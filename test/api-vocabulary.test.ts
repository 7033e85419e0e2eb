/**
 * Issue 16, points 2-6: KEEPTTL, writes addressed by URL, one error vocabulary, the small inconsistencies and
 * reserved names, over HTTP against a real Redis.
 */
import { startLocalServer, type LocalServer } from '../lambdas/local/server';
import { entryKey } from '../lambdas/core/keyspace';
import { jsonCaller, storedExceptHitCounts } from './support/http';
import { useRedisServer } from './support/redis';

const redis = useRedisServer({}, { MAX_TTL_SECONDS: '86400' });
let server: LocalServer;

beforeAll(async () => {
  server = await startLocalServer();
});
afterAll(() => server?.close());
beforeEach(() => redis.client.flushall());

const call = jsonCaller(() => server.url);
const stored = () => storedExceptHitCounts(redis.client);

describe('keepTtl (point 2)', () => {
  test('a write without ttl resets it to the default; keepTtl keeps the expiry, on POST, PUT and batch set', async () => {
    await call('POST', '/cache', { key: 'k', value: 1, ttl: 300 });
    const cas = await call('POST', '/cache', { key: 'k', value: 2, ifVersion: (await call('GET', '/cache/k')).body.version });
    expect(cas.body.ttl).toBe(3600); // the documented default behaviour

    await call('POST', '/cache', { key: 'k', value: 3, ttl: 300 });
    const kept = await call('POST', '/cache', { key: 'k', value: 4, keepTtl: true });
    expect(kept).toMatchObject({ status: 200, body: { ttl: expect.any(Number) } });
    expect(kept.body.ttl).toBeLessThanOrEqual(300);
    expect(kept.body.ttl).toBeGreaterThan(200);
    expect((await call('GET', '/cache/k')).body).toMatchObject({ value: 4, ttl: kept.body.ttl });
    expect(await redis.client.pttl(entryKey('k'))).toBeLessThanOrEqual(300_000);

    // sliding still slides by the TTL the entry was written with
    const slid = await call('GET', '/cache/k?sliding=true');
    expect(slid.body.ttl).toBe(300);

    expect((await call('PUT', '/cache/k', { value: 5, keepTtl: true })).body.ttl).toBeLessThanOrEqual(300);
    const batch = await call('POST', '/cache/batch/set', { items: [{ key: 'k', value: 6, keepTtl: true }, { key: 'new', value: 1, keepTtl: true }] });
    expect(batch.body.items[0].ttl).toBeLessThanOrEqual(300);
    expect(batch.body.items[1]).toMatchObject({ created: true, ttl: 3600 });
  });

  test('keepTtl keeps "no expiry" of a persisted entry; with ttl it is a 400 that changes nothing', async () => {
    await call('POST', '/cache', { key: 'p', value: 1, tags: ['t'] });
    await call('DELETE', '/cache/p/ttl');
    const kept = await call('POST', '/cache', { key: 'p', value: 2, keepTtl: true, tags: ['t'] });
    expect(kept.body).toMatchObject({ ttl: null, tags: ['t'] });
    expect(await redis.client.pttl(entryKey('p'))).toBe(-1);
    expect((await call('GET', '/cache/p')).body).toMatchObject({ value: 2, ttl: null });
    expect(await redis.client.zscore('_:tag:t', entryKey('p'))).toBe('inf');

    const before = await stored();
    for (const [method, path, body] of [
      ['POST', '/cache', { key: 'p', value: 3, ttl: 5, keepTtl: true }],
      ['PUT', '/cache/p', { value: 3, ttl: 5, keepTtl: true }],
      ['POST', '/cache/batch/set', { items: [{ key: 'p', value: 3, ttl: 5, keepTtl: true }] }],
      ['POST', '/cache', { key: 'p', value: 3, keepTtl: false }],
    ] as const) {
      const res = await call(method, path, body);
      expect(res).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    }
    expect((await call('POST', '/cache', { key: 'p', value: 3, ttl: 5, keepTtl: true })).body.error.message).toContain('give "ttl" or "keepTtl", not both');
    expect(await stored()).toEqual(before);
  });
});

describe('writes addressed by URL (point 3)', () => {
  test('PUT /cache/{key} and PUT /cache?key= write as POST /cache does: status, ETag, conditions, limits, errors', async () => {
    const created = await call('PUT', '/cache/user%3A1', { value: { n: 1 }, ttl: 60, tags: ['u'] });
    expect(created).toMatchObject({ status: 201, body: { key: 'user:1', ttl: 60, tags: ['u'] } });
    expect(created.headers.get('etag')).toBe(`"${created.body.version}"`);
    const replaced = await call('PUT', '/cache?key=user%3A1', { value: { n: 2 } });
    expect(replaced).toMatchObject({ status: 200, body: { key: 'user:1', version: created.body.version + 1 } });
    expect((await call('GET', '/cache/user:1')).body.value).toEqual({ n: 2 });

    // every key, reserved names included, by ?key=
    expect((await call('PUT', '/cache?key=stats', { value: 's' })).status).toBe(201);
    expect((await call('GET', '/cache?key=stats')).body.value).toBe('s');

    const before = await stored();
    expect((await call('PUT', '/cache/user:1', { value: 3, ifAbsent: true })).body.error).toMatchObject({ code: 'CONFLICT' });
    expect((await call('PUT', '/cache/user:1', { value: 3, ifVersion: 1 })).body.error).toMatchObject({ code: 'VERSION_CONFLICT' });
    const refused = await call('PUT', '/cache/user:1', { value: 3 }, { 'if-match': '"1"' });
    expect(refused).toMatchObject({ status: 412, body: { error: { code: 'PRECONDITION_FAILED', details: { expectedVersion: 1 } } } });
    expect((await call('PUT', '/cache/user:1', { key: 'user:1', value: 3 })).body.error.message).toContain('unknown field(s) "key"');
    expect((await call('PUT', '/cache/user:1', { ttl: 5 })).body.error.message).toBe('value: is required');
    expect((await call('PUT', `/cache/${'k'.repeat(1025)}`, { value: 1 })).body.error.code).toBe('INVALID_KEY');
    expect((await call('PUT', '/cache', { value: 1 })).body.error.code).toBe('INVALID_KEY');
    expect((await call('PUT', '/cache/user:1', 'nope')).body.error.code).toBe('INVALID_JSON');
    expect(await stored()).toEqual(before);
  });
});

describe('one error vocabulary (point 4)', () => {
  test('a bad query parameter is VALIDATION_FAILED everywhere, and an unknown one is refused', async () => {
    await call('POST', '/cache', { key: 'k', value: 1 });
    await call('POST', '/zsets/z/add', { members: [{ member: 'a', score: 1 }] });
    for (const path of ['/cache/k?consistency=bogus', '/cache/k?touch=abc', '/cache/stats?window=2d', '/lists/l?start=x', '/cache/k?withscores=true']) {
      expect((await call('GET', path)).body.error.code).toBe('VALIDATION_FAILED');
    }
    const unknown = await call('GET', '/zsets/z?withscores=true');
    expect(unknown).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    expect(unknown.body.error.message).toBe('unknown query parameter(s) "withscores" (this route takes "start", "stop", "reverse", "withScores", "key")');
    expect((await call('GET', '/zsets/z?withScores=true')).status).toBe(200);
    // the ?key= form of a keyed route is not unknown
    expect((await call('GET', '/cache/_?key=k')).status).toBe(200);
    expect((await call('DELETE', '/cache/k?force=1')).body.error.code).toBe('VALIDATION_FAILED');
    expect((await call('GET', '/cache/k')).status).toBe(200);
    // a header's problem is BAD_REQUEST
    expect((await call('GET', '/cache/k', undefined, { 'x-skycache-consistency': 'bogus' })).body.error.code).toBe('BAD_REQUEST');
  });

  test('412s carry currentVersion and expectedVersion on POST and DELETE; no message shows a sentinel', async () => {
    const v = (await call('POST', '/cache', { key: 'k', value: 1 })).body.version as number;
    const weak = await call('POST', '/cache', { key: 'k', value: 2 }, { 'if-match': `W/"${v}"` });
    expect(weak).toMatchObject({ status: 412, body: { error: { details: { currentVersion: v, expectedVersion: null } } } });
    const weakDelete = await call('DELETE', '/cache/k', undefined, { 'if-match': `W/"${v}"` });
    expect(weakDelete.body).toEqual(weak.body);
    const stale = await call('DELETE', '/cache/k', undefined, { 'if-match': '"1"' });
    expect(stale).toMatchObject({ status: 412, body: { error: { details: { currentVersion: v, expectedVersion: 1 } } } });
    expect(stale.body.error.message).toBe(`precondition failed: entry "k" is at version ${v}, not at version 1`);
    const postStale = await call('POST', '/cache', { key: 'k', value: 2 }, { 'if-match': '"1"' });
    expect(postStale.body).toEqual(stale.body);

    const absentStar = await call('POST', '/cache', { key: 'none', value: 1 }, { 'if-match': '*' });
    expect(absentStar.body.error).toEqual({
      code: 'PRECONDITION_FAILED',
      message: 'precondition failed: no entry for key "none" to replace',
      details: { currentVersion: null, expectedVersion: null },
    });
    const absentVersion = await call('DELETE', '/cache/none', undefined, { 'if-match': '"5"' });
    expect(absentVersion.body.error.message).toBe('precondition failed: there is no entry for key "none", not at version 5');
    const bodyCas = await call('POST', '/cache', { key: 'none', value: 1, ifVersion: 5 });
    expect(bodyCas.body.error).toMatchObject({ code: 'VERSION_CONFLICT', details: { currentVersion: null, expectedVersion: 5 } });
    for (const reply of [weak, weakDelete, stale, absentStar, absentVersion, bodyCas]) {
      expect(reply.body.error.message).not.toMatch(/-1|\(ifPresent\)|\(absent\)/);
    }
  });

  test('each problem is reported once; a foreign string has null timestamps', async () => {
    const long = 'k'.repeat(1025);
    const inBody = await call('POST', '/cache', { key: long, value: 1 });
    expect(inBody.body.error.message).toBe('key: must be at most 1024 bytes of UTF-8');
    expect((await call('GET', `/cache/${long}`)).body.error.message).toBe('key: must be at most 1024 bytes of UTF-8');

    await redis.client.set(entryKey('foreign'), 'plain text');
    expect((await call('GET', '/cache/foreign')).body).toEqual({
      key: 'foreign', value: 'plain text', ttl: null, version: 0, createdAt: null, updatedAt: null, tags: [],
    });
  });
});

describe('small inconsistencies (point 5)', () => {
  test('counters: POST answers tags and an ETag like GET; DELETE exists', async () => {
    await call('POST', '/cache', { key: 'c', value: 5, tags: ['hits'] });
    const inc = await call('POST', '/counters/c', { by: 2 });
    expect(inc).toMatchObject({ status: 200, body: { key: 'c', value: 7, tags: ['hits'] } });
    expect(inc.headers.get('etag')).toBe(`"${inc.body.version}"`);
    const read = await call('GET', '/counters/c');
    expect(read.headers.get('etag')).toBe(`"${inc.body.version}"`);
    expect(read.body.tags).toEqual(['hits']);
    expect(await call('POST', '/counters/fresh', {})).toMatchObject({ status: 201, body: { tags: [] } });

    await call('POST', '/cache', { key: 'text', value: 'x' });
    await call('POST', '/lists/l/push', { values: [1] });
    expect((await call('DELETE', '/counters/text')).body.error.code).toBe('CONFLICT');
    expect((await call('DELETE', '/counters/l')).body.error.code).toBe('WRONG_TYPE');
    expect((await call('DELETE', '/counters/c')).status).toBe(204);
    expect((await call('DELETE', '/counters/c')).body.error.code).toBe('NOT_FOUND');
    expect((await call('GET', '/cache/text')).status).toBe(200);
  });

  test('the tag limit counts distinct tags', async () => {
    const ten = Array.from({ length: 10 }, (_, i) => `t${i}`);
    expect((await call('POST', '/cache', { key: 'a', value: 1, tags: [...ten, 't0'] })).body.tags).toEqual(ten);
    const eleven = await call('POST', '/cache', { key: 'a', value: 1, tags: [...ten, 't10'] });
    expect(eleven.body.error.message).toBe('tags: must list at most 10 distinct tags');
  });

  test('what batch/set accepts, batch/get reads back (5 values of 1 MiB)', async () => {
    const big = 'x'.repeat(1024 * 1024 - 2); // 1 MiB of JSON with the quotes
    const items = Array.from({ length: 5 }, (_, i) => ({ key: `b${i}`, value: big, tags: ['big'] }));
    expect((await call('POST', '/cache/batch/set', { items })).status).toBe(200);
    const read = await call('POST', '/cache/batch/get', { keys: items.map((i) => i.key) });
    expect(read.status).toBe(200);
    expect(read.body.items.every((i: { found: boolean }) => i.found)).toBe(true);
  });

  test('stats.redis.keys counts entries and collections, not the service\'s own keys', async () => {
    await call('POST', '/cache', { key: 'a', value: 1, tags: ['t1', 't2'] });
    await call('POST', '/sets/s/add', { members: [1] });
    await call('GET', '/cache/a');
    await call('GET', '/cache/missing');
    await call('POST', '/topics/news/messages', { message: 'hi' });
    const stats = await call('GET', '/cache/stats');
    expect(await redis.client.dbsize()).toBeGreaterThan(2);
    expect(stats.body.redis.keys).toBe(2);
  });

  test('in sets, 1 and 1.0 are one member (docs/data-structures.md)', async () => {
    const added = await call('POST', '/sets/n/add', '{"members":[1, 1.0, 1e0, "1"]}');
    expect(added.body).toMatchObject({ added: 2, size: 2 });
    expect((await call('POST', '/sets/n/contains', '{"members":[1.0, "1.0"]}')).body.results).toEqual([true, false]);
  });
});

describe('reserved names (point 6)', () => {
  test('every method of a reserved path behaves the same way; ?key= reaches any key', async () => {
    for (const key of ['stats', 'ttl', 'batch', 'invalidate']) {
      expect((await call('PUT', `/cache?key=${key}`, { value: key })).status).toBe(201);
    }
    const before = await stored();
    for (const method of ['PUT', 'DELETE', 'POST', 'PATCH']) {
      const res = await call(method, '/cache/stats', method === 'DELETE' ? undefined : { value: 1 });
      expect(res).toMatchObject({ status: 405, body: { error: { code: 'METHOD_NOT_ALLOWED' } } });
      expect(res.headers.get('allow')).toBe('GET');
    }
    for (const method of ['GET', 'DELETE', 'PUT']) {
      expect((await call(method, '/cache/batch', method === 'PUT' ? { value: 1 } : undefined)).body.error.code).toBe('ROUTE_NOT_FOUND');
      expect((await call(method, '/cache/invalidate', method === 'PUT' ? { value: 1 } : undefined)).status).toBe(405);
      expect((await call(method, '/cache/stats/ttl', method === 'PUT' ? { ttl: 1 } : undefined)).body.error.code).toBe('ROUTE_NOT_FOUND');
    }
    expect(await stored()).toEqual(before);
    for (const key of ['stats', 'ttl', 'batch', 'invalidate']) {
      expect((await call('GET', `/cache?key=${key}`)).body.value).toBe(key);
      expect((await call('GET', `/cache/_/ttl?key=${key}`)).body.key).toBe(key);
      expect((await call('DELETE', `/cache?key=${key}`)).status).toBe(204);
    }
  });
});
