import Redis from 'ioredis';
import { startLocalServer, type LocalServer } from '../lambdas/local/server';
import { startRedisProcess } from '../lambdas/local/redis-process';
import { resetRuntimeConfig } from '../lambdas/core/config';
import { closeServices } from '../lambdas/services';
import { useRedisServer } from './support/redis';

const redis = useRedisServer({}, { MAX_VALUE_BYTES: '4096' });
let server: LocalServer;
beforeAll(async () => {
  server = await startLocalServer();
});
afterAll(() => server.close());
beforeEach(() => redis.client.flushall());

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(server.url + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : undefined };
}

describe('the local HTTP server, end to end over real Redis', () => {
  test("the seed's sample request through POST, GET, DELETE, invalidate and stats", async () => {
    const created = await call('POST', '/cache', { key: 'user:123', value: { name: 'John' }, ttl: 300 });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ key: 'user:123', version: expect.any(Number), ttl: 300 });
    const read = await call('GET', '/cache/user:123');
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ value: { name: 'John' }, ttl: 300, version: created.json.version });
    expect((await call('DELETE', '/cache/user:123')).status).toBe(204);
    expect((await call('GET', '/cache/user:123')).status).toBe(404);
    await call('POST', '/cache', { key: 'user:1', value: 1 });
    await call('POST', '/cache', { key: 'user:2', value: 2 });
    expect((await call('POST', '/cache/invalidate', { prefix: 'user:' })).json).toEqual({ invalidated: 2 });
    const stats = await call('GET', '/cache/stats');
    expect(stats.json).toMatchObject({ hits: 1, misses: 1, hitRatio: 0.5 });
  });

  test.each([
    ['a slash', 'a/b/c'],
    ['non-ASCII', 'ключ:日本語:😀'],
    ['percent and reserved characters', '100% ?#&=+ key'],
    ['the name of the stats route', 'stats'],
    ['1024 bytes', 'k'.repeat(1024)],
  ])('a key with %s round-trips through URL encoding', async (_what, key) => {
    expect((await call('POST', '/cache', { key, value: key })).status).toBe(201);
    const byQuery = await call('GET', `/cache?key=${encodeURIComponent(key)}`);
    expect(byQuery.json).toMatchObject({ key, value: key });
    if (key !== 'stats') {
      const byPath = await call('GET', `/cache/${encodeURIComponent(key)}`);
      expect(byPath.json).toMatchObject({ key, value: key });
    }
    expect((await call('DELETE', `/cache?key=${encodeURIComponent(key)}`)).status).toBe(204);
  });

  test('every response carries a request id, errors included', async () => {
    for (const [method, path] of [['GET', '/cache/x'], ['GET', '/nowhere'], ['PUT', '/cache'], ['GET', '/cache/stats']]) {
      const res = await call(method, path);
      expect(res.headers.get('x-request-id')).toMatch(/\S{8,}/);
    }
  });

  test('unknown routes are 404 and wrong methods 405, as JSON', async () => {
    const missing = await call('GET', '/nowhere');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('ROUTE_NOT_FOUND');
    const wrong = await call('PATCH', '/cache/x');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toContain('GET');
  });

  test.each([
    ['malformed JSON', '{"key": "x", ', {}, 400, 'INVALID_JSON'],
    ['a form body', 'key=x', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['an unknown field', { key: 'x', value: 1, extra: true }, {}, 400, 'VALIDATION_FAILED'],
    ['a negative ttl', { key: 'x', value: 1, ttl: -5 }, {}, 400, 'VALIDATION_FAILED'],
    ['an oversize value', { key: 'x', value: 'v'.repeat(5000) }, {}, 413, 'PAYLOAD_TOO_LARGE'],
    ['a key that is not a string', { key: 42, value: 1 }, {}, 400, 'VALIDATION_FAILED'],
  ])('POST /cache with %s is refused and loses nothing', async (_what, body, headers, status, code) => {
    const kept = await call('POST', '/cache', { key: 'x', value: 'kept' });
    const res = await call('POST', '/cache', body, headers as Record<string, string>);
    expect(res.status).toBe(status);
    expect(res.json.error.code).toBe(code);
    expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect((await call('GET', '/cache/x')).json).toMatchObject({ value: 'kept', version: kept.json.version });
  });

  test('a key over 1024 bytes in the path is a 400 naming the limit', async () => {
    const res = await call('GET', `/cache/${'k'.repeat(1025)}`);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'INVALID_KEY' });
    expect(res.json.error.message).toMatch(/1024 bytes/);
  });

  test('GET /cache without ?key= is a 400', async () => {
    const res = await call('GET', '/cache');
    expect(res.status).toBe(400);
    expect(res.json.error.message).toMatch(/"key" parameter is required/);
  });

  test('a body over 10 MB is refused with 413 before it reaches the handler', async () => {
    const res = await call('POST', '/cache', 'x'.repeat(10 * 1024 * 1024 + 1));
    expect(res.status).toBe(413);
  });
});

describe('when Redis is unreachable', () => {
  test('requests are answered 503 with Retry-After within the timeout, and recover without a restart', async () => {
    const spare = await startRedisProcess();
    const port = spare.port;
    const saved = { url: process.env.REDIS_URL, timeout: process.env.REDIS_TIMEOUT_MS };
    process.env.REDIS_URL = spare.url;
    process.env.REDIS_TIMEOUT_MS = '500';
    resetRuntimeConfig();
    await closeServices();
    try {
      expect((await call('POST', '/cache', { key: 'a', value: 1 })).status).toBe(201);
      await spare.stop();
      const started = Date.now();
      const down = await call('GET', '/cache/a');
      const elapsed = Date.now() - started;
      expect(down.status).toBe(503);
      expect(down.json.error.code).toBe('UNAVAILABLE');
      expect(down.headers.get('retry-after')).toBe('1');
      expect(elapsed).toBeLessThan(500 + 1000); // the configured timeout plus generous scheduling slack
      const writeDown = await call('POST', '/cache', { key: 'b', value: 1 });
      expect(writeDown.status).toBe(503);

      const back = await startRedisProcess({ port });
      try {
        // A write answered 503 must not be applied later, when the connection comes back.
        await new Promise((r) => setTimeout(r, 1500));
        const probe = new Redis(back.url);
        expect(await probe.get('k:b').finally(() => probe.disconnect())).toBeNull();
        let status = 0;
        for (let i = 0; i < 50 && status !== 201; i++) {
          status = (await call('POST', '/cache', { key: 'b', value: 2 })).status;
          if (status !== 201) await new Promise((r) => setTimeout(r, 100));
        }
        expect(status).toBe(201);
      } finally {
        await closeServices();
        await back.stop();
      }
    } finally {
      process.env.REDIS_URL = saved.url;
      if (saved.timeout === undefined) delete process.env.REDIS_TIMEOUT_MS;
      else process.env.REDIS_TIMEOUT_MS = saved.timeout;
      resetRuntimeConfig();
      await closeServices();
    }
  });
});
