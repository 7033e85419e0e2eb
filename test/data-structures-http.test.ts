import { startLocalServer, type LocalServer } from '../lambdas/local/server';
import { routes } from '../lambdas/routes';
import { DEFAULT_SCHEMA_LIMITS, toGatewaySchema } from '../lambdas/http/schemas';
import { entryKey } from '../lambdas/core/keyspace';
import { useRedisServer } from './support/redis';

const redis = useRedisServer({}, { DEFAULT_TTL_SECONDS: '300' });
let server: LocalServer;

beforeAll(async () => {
  server = await startLocalServer();
});
afterAll(() => server?.close());
beforeEach(() => redis.client.flushall());

// Replies are asserted field by field; a loose type keeps the assertions readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Reply = { status: number; body: any };

async function call(method: string, path: string, body?: unknown): Promise<Reply> {
  const res = await fetch(server.url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
const post = (path: string, body: unknown) => call('POST', path, body);
const get = (path: string) => call('GET', path);

function expectError(res: Reply, status: number, code: string, mentions?: string) {
  expect(res.status).toBe(status);
  expect(res.body.error.code).toBe(code);
  if (mentions) expect(res.body.error.message).toContain(mentions);
}

describe('lists over HTTP', () => {
  test('push, range, size, pop, trim, delete', async () => {
    expect(await post('/lists/q/push', { values: ['a', { b: 1 }], ttl: 60 })).toEqual({ status: 201, body: { key: 'q', size: 2, ttl: 60 } });
    expect(await post('/lists/q/push', { values: [0], end: 'left' })).toMatchObject({ status: 200, body: { size: 3, ttl: 60 } });
    expect(await get('/lists/q')).toEqual({ status: 200, body: { key: 'q', values: [0, 'a', { b: 1 }], size: 3, ttl: 60 } });
    expect((await get('/lists/q?start=1&stop=-1')).body.values).toEqual(['a', { b: 1 }]);
    expect(await get('/lists/q/size')).toEqual({ status: 200, body: { key: 'q', size: 3 } });
    expect(await post('/lists/q/pop', { end: 'right', count: 2 })).toEqual({ status: 200, body: { key: 'q', values: [{ b: 1 }, 'a'], size: 1 } });
    expect((await post('/lists/q/pop', {})).body.values).toEqual([0]);
    await post('/lists/q/push', { values: [1, 2, 3] });
    expect(await post('/lists/q/trim', { start: 0, stop: 0 })).toEqual({ status: 200, body: { key: 'q', size: 1 } });
    expect((await call('DELETE', '/lists/q')).status).toBe(204);
    expectError(await get('/lists/q'), 404, 'NOT_FOUND');
    expectError(await call('DELETE', '/lists/q'), 404, 'NOT_FOUND');
  });

  test('a new list gets the default TTL', async () => {
    await post('/lists/d/push', { values: [1] });
    expect(await redis.client.ttl(entryKey('d'))).toBe(300);
  });

  test('bad inputs are 4xx naming the problem and store nothing', async () => {
    expectError(await post('/lists/q/push', {}), 400, 'VALIDATION_FAILED', 'values: is required');
    expectError(await post('/lists/q/push', { values: [] }), 400, 'VALIDATION_FAILED', 'values');
    expectError(await post('/lists/q/push', { values: [1], end: 'middle' }), 400, 'VALIDATION_FAILED', 'end');
    expectError(await post('/lists/q/push', { values: [1], ttl: 0 }), 400, 'VALIDATION_FAILED', 'ttl');
    expectError(await post('/lists/q/push', { values: [1], extra: 1 }), 400, 'VALIDATION_FAILED', '"extra"');
    expectError(await post('/lists/q/push', { values: Array(1001).fill(1) }), 400, 'VALIDATION_FAILED', 'at most 1000');
    const big = await post('/lists/q/push', { values: [1, 'x'.repeat(70_000)] });
    expectError(big, 413, 'PAYLOAD_TOO_LARGE', 'values.1');
    expect(big.body.error.details).toMatchObject({ field: 'values.1', limit: 65536 });
    expectError(await post('/lists/q/pop', { count: 0 }), 400, 'VALIDATION_FAILED', 'count');
    expectError(await post('/lists/q/trim', { start: 1.5, stop: 2 }), 400, 'VALIDATION_FAILED', 'start');
    expectError(await get('/lists/q?start=abc'), 400, 'VALIDATION_FAILED', 'start');
    expectError(await post('/lists/q/push', '{"values": [1'), 400, 'INVALID_JSON');
    expect(await redis.client.exists(entryKey('q'))).toBe(0);
  });
});

describe('replies too large to send', () => {
  test('a whole-list read over 5 MiB is a 413 asking for ranges; a pop stops at 4 MiB; nothing is lost', async () => {
    const value = 'v'.repeat(60_000);
    for (let i = 0; i < 10; i++) expect((await post('/lists/big/push', { values: Array(10).fill(value) })).status).toBeLessThan(300);
    expectError(await get('/lists/big'), 413, 'PAYLOAD_TOO_LARGE', '?start=');
    expect((await get('/lists/big?start=0&stop=9')).body.values).toHaveLength(10);
    const popped = await post('/lists/big/pop', { count: 100 });
    expect(popped.body.values.length).toBe(Math.floor((4 * 1024 * 1024) / 60_002));
    expect(popped.body.size + popped.body.values.length).toBe(100);
  });
});

describe('sets over HTTP', () => {
  test('add, members, contains, remove, size, pop, delete', async () => {
    expect(await post('/sets/s/add', { members: ['a', 'b', 'a', 1] })).toEqual({ status: 201, body: { key: 's', added: 3, size: 3, ttl: 300 } });
    expect(await post('/sets/s/add', { members: ['c'], ttl: 99 })).toMatchObject({ status: 200, body: { added: 1, size: 4, ttl: 99 } });
    const all = await get('/sets/s');
    expect(all.body).toMatchObject({ key: 's', size: 4, ttl: 99 });
    expect([...all.body.members].sort()).toEqual([1, 'a', 'b', 'c'].sort());
    expect(await post('/sets/s/contains', { members: ['a', 'z', 1, '1'] })).toEqual({ status: 200, body: { key: 's', results: [true, false, true, false] } });
    expect(await post('/sets/s/remove', { members: ['a', 'z'] })).toEqual({ status: 200, body: { key: 's', removed: 1, size: 3 } });
    expect(await get('/sets/s/size')).toEqual({ status: 200, body: { key: 's', size: 3 } });
    const popped = await post('/sets/s/pop', { count: 2 });
    expect(popped.body.members).toHaveLength(2);
    expect(popped.body.size).toBe(1);
    expect((await call('DELETE', '/sets/s')).status).toBe(204);
    expectError(await get('/sets/s'), 404, 'NOT_FOUND');
    expect(await get('/sets/s/size')).toEqual({ status: 200, body: { key: 's', size: 0 } });
  });

  test('bad inputs', async () => {
    expectError(await post('/sets/s/add', { members: 'a' }), 400, 'VALIDATION_FAILED', 'members');
    expectError(await post('/sets/s/contains', {}), 400, 'VALIDATION_FAILED', 'members: is required');
    expectError(await post('/sets/s/pop', { count: 'two' }), 400, 'VALIDATION_FAILED', 'count');
    expect(await redis.client.exists(entryKey('s'))).toBe(0);
  });
});

describe('hashes over HTTP', () => {
  test('set, get, get all, remove, increment, size, delete', async () => {
    expect(await post('/hashes/h/set', { fields: { name: 'Ann', age: 30, tags: ['x'] } })).toEqual({
      status: 201,
      body: { key: 'h', added: 3, updated: 0, size: 3, ttl: 300 },
    });
    expect((await post('/hashes/h/set', { fields: { age: 31 } })).body).toMatchObject({ added: 0, updated: 1 });
    expect(await post('/hashes/h/get', { fields: ['name', 'nope'] })).toEqual({ status: 200, body: { key: 'h', fields: { name: 'Ann' }, missing: ['nope'] } });
    expect(await get('/hashes/h')).toEqual({ status: 200, body: { key: 'h', fields: { name: 'Ann', age: 31, tags: ['x'] }, size: 3, ttl: 300 } });
    expect(await post('/hashes/h/increment', { field: 'age', by: -1 })).toEqual({ status: 200, body: { key: 'h', field: 'age', value: 30, ttl: 300 } });
    expect((await post('/hashes/h/increment', { field: 'visits' })).body.value).toBe(1);
    expect(await post('/hashes/h/remove', { fields: ['tags', 'nope'] })).toEqual({ status: 200, body: { key: 'h', removed: 1, size: 3 } });
    expect(await get('/hashes/h/size')).toEqual({ status: 200, body: { key: 'h', size: 3 } });
    expect((await call('DELETE', '/hashes/h')).status).toBe(204);
    expectError(await get('/hashes/h'), 404, 'NOT_FOUND');
  });

  test('a field named "__proto__" is an ordinary field', async () => {
    expect((await post('/hashes/p/set', '{"fields":{"__proto__":{"x":1},"b":2}}')).body).toMatchObject({ added: 2, size: 2 });
    expect((await get('/hashes/p')).body.fields).toEqual(JSON.parse('{"__proto__":{"x":1},"b":2}'));
    expect((await post('/hashes/p/get', { fields: ['__proto__'] })).body.fields).toEqual(JSON.parse('{"__proto__":{"x":1}}'));
  });

  test('bad inputs and a non-integer increment change nothing', async () => {
    await post('/hashes/h/set', { fields: { name: 'Ann' } });
    expectError(await post('/hashes/h/set', { fields: {} }), 400, 'VALIDATION_FAILED', 'at least one field');
    expectError(await post('/hashes/h/set', { fields: [1] }), 400, 'VALIDATION_FAILED', 'fields');
    expectError(await post('/hashes/h/set', { fields: { ['f'.repeat(1025)]: 1 } }), 400, 'VALIDATION_FAILED', 'at most 1024 bytes');
    expectError(await post('/hashes/h/set', {}), 400, 'VALIDATION_FAILED', 'fields');
    expectError(await post('/hashes/h/set', '{"fields":{"\\ud800":1}}'), 400, 'VALIDATION_FAILED', 'lone surrogates');
    expectError(await post('/hashes/h/get', '{"fields":["\\udc00"]}'), 400, 'VALIDATION_FAILED', 'fields.0');
    expectError(await post('/hashes/h/increment', { field: 'name', by: 1.5 }), 400, 'VALIDATION_FAILED', 'by');
    expectError(await post('/hashes/h/increment', { field: 'name' }), 409, 'CONFLICT', 'integer');
    expectError(await post('/hashes/h/get', { fields: ['a'.repeat(1025)] }), 400, 'VALIDATION_FAILED', 'fields.0');
    expect((await get('/hashes/h')).body.fields).toEqual({ name: 'Ann' });
  });
});

describe('sorted sets over HTTP', () => {
  const board = [
    { member: 'ann', score: 10 },
    { member: 'bob', score: 20.5 },
    { member: 'cy', score: 30 },
  ];

  test('add, ranges by rank and score, rank, scores, increment, count, size, remove, delete', async () => {
    expect(await post('/zsets/z/add', { members: board })).toEqual({ status: 201, body: { key: 'z', added: 3, updated: 0, size: 3, ttl: 300 } });
    expect(await get('/zsets/z')).toEqual({ status: 200, body: { key: 'z', members: ['ann', 'bob', 'cy'], size: 3, ttl: 300 } });
    expect((await get('/zsets/z?start=0&stop=1&reverse=true&withScores=true')).body.members).toEqual([
      { member: 'cy', score: 30 },
      { member: 'bob', score: 20.5 },
    ]);
    expect((await get('/zsets/z/by-score?min=(10&max=30')).body.members).toEqual(['bob', 'cy']);
    expect((await get('/zsets/z/by-score?reverse=true&offset=1&limit=1&withScores=true')).body.members).toEqual([{ member: 'bob', score: 20.5 }]);
    expect(await post('/zsets/z/rank', { member: 'cy', reverse: true })).toEqual({ status: 200, body: { key: 'z', member: 'cy', rank: 0, score: 30 } });
    expect(await post('/zsets/z/scores', { members: ['ann', 'nobody'] })).toEqual({ status: 200, body: { key: 'z', scores: [10, null] } });
    expect(await post('/zsets/z/increment', { member: 'ann', by: 0.5 })).toEqual({ status: 200, body: { key: 'z', member: 'ann', score: 10.5, ttl: 300 } });
    expect(await get('/zsets/z/count?min=10&max=(30')).toEqual({ status: 200, body: { key: 'z', count: 2 } });
    expect(await get('/zsets/z/count')).toEqual({ status: 200, body: { key: 'z', count: 3 } });
    expect(await post('/zsets/z/add', { members: [{ member: 'ann', score: 1 }, { member: 'dee', score: 1 }], gt: true })).toMatchObject({
      status: 200,
      body: { added: 1, updated: 0, size: 4 },
    });
    expect(await post('/zsets/z/add', { members: [{ member: 'ann', score: 99 }], xx: true, gt: true })).toMatchObject({ body: { added: 0, updated: 1 } });
    expect(await post('/zsets/z/add', { members: [{ member: 'eve', score: 1 }, { member: 'ann', score: 0 }], nx: true })).toMatchObject({ body: { added: 1, updated: 0 } });
    expect(await post('/zsets/z/remove', { members: ['eve', 'nobody'] })).toEqual({ status: 200, body: { key: 'z', removed: 1, size: 4 } });
    expect(await get('/zsets/z/size')).toEqual({ status: 200, body: { key: 'z', size: 4 } });
    expect((await call('DELETE', '/zsets/z')).status).toBe(204);
    expectError(await get('/zsets/z/by-score'), 404, 'NOT_FOUND');
  });

  test('bad scores, bounds and flags are 400 and change nothing', async () => {
    await post('/zsets/z/add', { members: board });
    expectError(await post('/zsets/z/add', { members: [{ member: 'x', score: '5' }] }), 400, 'VALIDATION_FAILED', 'members.0.score: must be a finite number');
    expectError(await post('/zsets/z/add', '{"members":[{"member":"x","score":1e999}]}'), 400, 'VALIDATION_FAILED', 'members.0.score');
    expectError(await post('/zsets/z/add', { members: [{ score: 1 }] }), 400, 'VALIDATION_FAILED', 'members.0.member: is required');
    expectError(await post('/zsets/z/add', { members: [{ member: 'x', score: 1 }], nx: true, gt: true }), 400, 'VALIDATION_FAILED', 'nx');
    expectError(await post('/zsets/z/add', { members: [{ member: 'x', score: 1 }], nx: true, xx: true }), 400, 'VALIDATION_FAILED', 'xx');
    expectError(await post('/zsets/z/increment', { member: 'ann' }), 400, 'VALIDATION_FAILED', 'by: is required');
    expectError(await post('/zsets/z/increment', { member: 'ann', by: 'NaN' }), 400, 'VALIDATION_FAILED', 'by');
    expectError(await get('/zsets/z/by-score?min=abc'), 400, 'VALIDATION_FAILED', 'min');
    expectError(await get('/zsets/z/count?max=NaN'), 400, 'VALIDATION_FAILED', 'max');
    expectError(await get('/zsets/z/by-score?limit=-1'), 400, 'VALIDATION_FAILED', 'limit');
    expectError(await get('/zsets/z?reverse=yes'), 400, 'VALIDATION_FAILED', 'reverse');
    expect((await get('/zsets/z?withScores=true')).body.members).toEqual(board);
  });
});

describe('counters over HTTP', () => {
  test('created at 0, incremented, decremented, read back as an entry and as a counter', async () => {
    const first = await post('/counters/hits', {});
    expect(first).toMatchObject({ status: 201, body: { key: 'hits', value: 1, version: expect.any(Number), ttl: 300 } });
    const v = first.body.version as number;
    expect(await post('/counters/hits', { by: 10 })).toMatchObject({ status: 200, body: { value: 11, version: v + 1 } });
    expect(await post('/counters/hits', { by: -20, ttl: 30 })).toMatchObject({ body: { value: -9, ttl: 30 } });
    expect(await get('/cache/hits')).toMatchObject({ status: 200, body: { value: -9, version: v + 2, ttl: 30 } });
    expect(await get('/counters/hits')).toMatchObject({ status: 200, body: { value: -9, version: v + 2 } });
    expectError(await get('/counters/none'), 404, 'NOT_FOUND');
  });

  test('non-integers, overflow and bad increments are refused and change nothing', async () => {
    const ann = await post('/cache', { key: 'name', value: 'Ann' });
    expectError(await post('/counters/name', { by: 1 }), 409, 'CONFLICT', 'integer');
    expectError(await get('/counters/name'), 409, 'CONFLICT');
    const max = await post('/cache', { key: 'max', value: Number.MAX_SAFE_INTEGER });
    const overflow = await post('/counters/max', { by: 1 });
    expectError(overflow, 409, 'CONFLICT', 'integer range');
    expectError(await post('/counters/max', { by: 1.5 }), 400, 'VALIDATION_FAILED', 'by');
    expectError(await post('/counters/max', { by: 2 ** 60 }), 400, 'VALIDATION_FAILED', 'by');
    expectError(await post('/counters/max', { by: '1' }), 400, 'VALIDATION_FAILED', 'by');
    expect((await get('/cache/max')).body).toMatchObject({ value: Number.MAX_SAFE_INTEGER, version: max.body.version });
    expect((await get('/cache/name')).body).toMatchObject({ value: 'Ann', version: ann.body.version });
  });
});

describe('wrong types over HTTP', () => {
  test('every data-structure route on a key of another type is 409 WRONG_TYPE naming it, and nothing changes', async () => {
    const entryVersion = (await post('/cache', { key: 'e', value: 'entry' })).body.version;
    await post('/lists/l/push', { values: [1] });
    const attempts: [string, string, unknown?][] = [
      ['GET', '/lists/e'],
      ['DELETE', '/lists/e'],
      ['POST', '/lists/e/push', { values: [1] }],
      ['POST', '/lists/e/pop', {}],
      ['GET', '/lists/e/size'],
      ['POST', '/lists/e/trim', { start: 0, stop: 0 }],
      ['GET', '/sets/l'],
      ['POST', '/sets/l/add', { members: [1] }],
      ['POST', '/sets/l/remove', { members: [1] }],
      ['POST', '/sets/l/contains', { members: [1] }],
      ['GET', '/sets/l/size'],
      ['POST', '/sets/l/pop', {}],
      ['DELETE', '/sets/l'],
      ['GET', '/hashes/l'],
      ['POST', '/hashes/l/set', { fields: { a: 1 } }],
      ['POST', '/hashes/l/get', { fields: ['a'] }],
      ['POST', '/hashes/l/remove', { fields: ['a'] }],
      ['POST', '/hashes/l/increment', { field: 'a' }],
      ['GET', '/hashes/l/size'],
      ['GET', '/zsets/e'],
      ['GET', '/zsets/e/by-score'],
      ['POST', '/zsets/e/add', { members: [{ member: 1, score: 1 }] }],
      ['POST', '/zsets/e/remove', { members: [1] }],
      ['POST', '/zsets/e/rank', { member: 1 }],
      ['POST', '/zsets/e/scores', { members: [1] }],
      ['POST', '/zsets/e/increment', { member: 1, by: 1 }],
      ['GET', '/zsets/e/count'],
      ['GET', '/zsets/e/size'],
      ['POST', '/counters/l', { by: 1 }],
      ['GET', '/counters/l'],
    ];
    for (const [method, path, body] of attempts) {
      const res = await call(method, path, body);
      expect({ path, status: res.status, code: res.body.error.code }).toEqual({ path, status: 409, code: 'WRONG_TYPE' });
      expect(res.body.error.details.actualType).toBe(path.includes('/e') ? 'string' : 'list');
    }
    expect((await get('/cache/e')).body).toMatchObject({ value: 'entry', version: entryVersion });
    expect((await get('/lists/l')).body.values).toEqual([1]);
  });

  test('every data-structure body schema converts to an API Gateway model', () => {
    for (const route of routes.filter((r) => r.body)) {
      expect(toGatewaySchema(route.body!(DEFAULT_SCHEMA_LIMITS))).toMatchObject({ type: 'object', additionalProperties: false });
    }
  });

  test('every data-structure route in the table is served by its handler', async () => {
    const mine = routes.filter((r) => ['lists', 'sets', 'hashes', 'sorted-sets', 'counters'].includes(r.handler));
    expect(mine).toHaveLength(33);
    for (const route of mine) {
      const res = await call(route.method, route.path.replace('{key}', 'fresh'), route.body ? {} : undefined);
      expect({ id: route.id, code: res.body?.error?.code, server: res.status >= 500 }).toEqual({
        id: route.id,
        code: expect.not.stringMatching(/ROUTE_NOT_FOUND|METHOD_NOT_ALLOWED/),
        server: false,
      });
    }
  });
});
