import { handler as deleteEntry } from '../lambdas/handlers/delete-entry';
import { handler as getEntry } from '../lambdas/handlers/get-entry';
import { handler as invalidate } from '../lambdas/handlers/invalidate';
import { handler as setEntry } from '../lambdas/handlers/set-entry';
import { handler as stats } from '../lambdas/handlers/stats';
import { jsonEvent, lambdaContext, proxyEvent } from './support/events';
import { useRedisServer } from './support/redis';

const redis = useRedisServer({}, { DEFAULT_TTL_SECONDS: '120', MAX_TTL_SECONDS: '86400', MAX_VALUE_BYTES: '2048' });
beforeEach(() => redis.client.flushall());

const put = (body: unknown) => setEntry(jsonEvent('POST', '/cache', body), lambdaContext);
const get = (key: string) =>
  getEntry(proxyEvent({ resource: '/cache/{key}', pathParameters: { key }, path: `/cache/${encodeURIComponent(key)}` }), lambdaContext);
const parse = (r: { body: string }) => JSON.parse(r.body);

describe('handlers invoked with API Gateway proxy events, over real Redis', () => {
  test('POST creates (201), replaces (200) and GET reads it back', async () => {
    const created = await put({ key: 'user:123', value: { name: 'John' }, ttl: 300 });
    expect(created.statusCode).toBe(201);
    expect(parse(created)).toMatchObject({ key: 'user:123', version: expect.any(Number), ttl: 300 });
    const { version } = parse(created);
    expect(created.headers?.['x-request-id']).toBeTruthy();
    const replaced = await put({ key: 'user:123', value: { name: 'Jane' } });
    expect(replaced.statusCode).toBe(200);
    expect(parse(replaced)).toMatchObject({ version: version + 1, ttl: 120 });
    const read = await get('user:123');
    expect(read.statusCode).toBe(200);
    expect(parse(read)).toMatchObject({ key: 'user:123', value: { name: 'Jane' }, version: version + 1, ttl: 120 });
    expect(read.headers?.['content-type']).toMatch(/application\/json/);
  });

  test('the request id of API Gateway is echoed', async () => {
    const event = jsonEvent('POST', '/cache', { key: 'a', value: 1 });
    event.requestContext.requestId = 'req-42';
    expect((await setEntry(event, lambdaContext)).headers?.['x-request-id']).toBe('req-42');
  });

  test('GET of a missing key is 404 with the error model', async () => {
    const res = await get('missing');
    expect(res.statusCode).toBe(404);
    expect(parse(res)).toEqual({ error: { code: 'NOT_FOUND', message: 'no entry for key "missing"' } });
  });

  test('GET /cache?key= reads any key, "stats" included', async () => {
    await put({ key: 'stats', value: 'not the stats route' });
    const res = await getEntry(proxyEvent({ resource: '/cache', queryStringParameters: { key: 'stats' } }), lambdaContext);
    expect(parse(res).value).toBe('not the stats route');
  });

  test('DELETE is 204, then 404', async () => {
    await put({ key: 'k', value: 1 });
    const ev = () => proxyEvent({ httpMethod: 'DELETE', resource: '/cache/{key}', pathParameters: { key: 'k' } });
    const first = await deleteEntry(ev(), lambdaContext);
    expect(first.statusCode).toBe(204);
    expect(first.body).toBe('');
    expect((await deleteEntry(ev(), lambdaContext)).statusCode).toBe(404);
  });

  test('invalidate by keys and by prefix', async () => {
    for (const k of ['user:1', 'user:2', 'item:1']) await put({ key: k, value: k });
    const res = await invalidate(jsonEvent('POST', '/cache/invalidate', { keys: ['item:1'], prefix: 'user:' }), lambdaContext);
    expect(res.statusCode).toBe(200);
    expect(parse(res)).toEqual({ invalidated: 3 });
  });

  test('stats counts hits and misses of GETs and reports Redis figures', async () => {
    await put({ key: 'a', value: 1 });
    await get('a');
    await get('a');
    await get('b');
    const body = parse(await stats(proxyEvent({ resource: '/cache/stats' }), lambdaContext));
    expect(body).toMatchObject({ hits: 2, misses: 1, hitRatio: 2 / 3 });
    expect(body.redis).toMatchObject({ nodes: 1, keys: 1, evictionPolicy: 'noeviction', evictedKeys: 0 });
    for (const f of ['usedMemoryBytes', 'maxMemoryBytes', 'expiredKeys', 'connectedClients', 'opsPerSecond', 'uptimeSeconds']) {
      expect(typeof body.redis[f]).toBe('number');
    }
  });

  test('a base64-encoded body is decoded', async () => {
    const event = jsonEvent('POST', '/cache', Buffer.from(JSON.stringify({ key: 'b64', value: 'ok' })).toString('base64'));
    event.isBase64Encoded = true;
    expect((await setEntry(event, lambdaContext)).statusCode).toBe(201);
  });

  test.each([
    ['missing value', { key: 'x' }, /value: is required/],
    ['missing key', { value: 1 }, /key: is required/],
    ['empty key', { key: '', value: 1 }, /key: must not be empty/],
    ['key over 1024 bytes', { key: 'é'.repeat(513), value: 1 }, /key: must be at most 1024 bytes/],
    ['ttl zero', { key: 'x', value: 1, ttl: 0 }, /ttl: must be at least 1 second/],
    ['ttl fractional', { key: 'x', value: 1, ttl: 1.5 }, /ttl: must be a whole number/],
    ['ttl over the cap', { key: 'x', value: 1, ttl: 86401 }, /ttl: must be at most 86400 seconds/],
    ['ttl as a string', { key: 'x', value: 1, ttl: '60' }, /ttl: must be a whole number/],
    ['unknown field', { key: 'x', value: 1, colour: 'red' }, /unknown field\(s\) "colour"/],
    ['not an object', [1, 2], /body/],
  ])('400 for %s, and nothing stored changes', async (_name, body, message) => {
    const original = await put({ key: 'x', value: 'original' });
    const res = await put(body);
    expect(res.statusCode).toBe(400);
    expect(parse(res).error.code).toBe('VALIDATION_FAILED');
    expect(parse(res).error.message).toMatch(message);
    expect(parse(await get('x'))).toMatchObject({ value: 'original', version: parse(original).version });
  });

  test('413 for a value over the configured size', async () => {
    const res = await put({ key: 'x', value: 'y'.repeat(3000) });
    expect(res.statusCode).toBe(413);
    expect(parse(res).error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { limit: 2048 } });
  });

  test('415 for a body that is not JSON by content type', async () => {
    const event = jsonEvent('POST', '/cache', { key: 'x', value: 1 });
    event.headers = { 'content-type': 'text/plain' };
    const res = await setEntry(event, lambdaContext);
    expect(res.statusCode).toBe(415);
    expect(parse(res).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  test('400 for malformed JSON and for an empty body', async () => {
    expect(parse(await put('{"key":')).error.code).toBe('INVALID_JSON');
    const empty = await setEntry(proxyEvent({ httpMethod: 'POST', resource: '/cache' }), lambdaContext);
    expect(empty.statusCode).toBe(400);
  });

  test('invalidate validates its body', async () => {
    const inv = (b: unknown) => invalidate(jsonEvent('POST', '/cache/invalidate', b), lambdaContext);
    expect((await inv({})).statusCode).toBe(400);
    expect(parse(await inv({ prefix: '' })).error.message).toMatch(/prefix: must not be empty/);
    expect(parse(await inv({ keys: [] })).error.message).toMatch(/keys: must name at least one key/);
    expect(parse(await inv({ keys: Array.from({ length: 1001 }, (_, i) => `k${i}`) })).error.message).toMatch(/at most 1000 keys/);
  });

  test('a WRONGTYPE key is a 409 naming the actual type, and stays untouched', async () => {
    await redis.client.sadd('k:a-set', 'm');
    const res = await get('a-set');
    expect(res.statusCode).toBe(409);
    expect(parse(res).error).toMatchObject({ code: 'WRONG_TYPE', details: { actualType: 'set' } });
    expect((await put({ key: 'a-set', value: 1 })).statusCode).toBe(409);
    expect(await redis.client.smembers('k:a-set')).toEqual(['m']);
  });
});
