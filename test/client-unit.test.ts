/**
 * The typed client (client/) without a cache behind it: retries and their bound, Retry-After, timeouts and
 * AbortSignal, typed errors, the route map against the server's table, the near cache's bound, SigV4 against AWS's
 * published test vectors.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NearCache, retryDelayMs, ROUTES, SkycacheClient, SkycacheError, WriteBehindError } from '../client/src/index.js';
import { signV4, sigV4Signer } from '../client/src/sigv4.js';
import { routes } from '../lambdas/routes';

/** A tiny HTTP server answering each request with `reply(n)` (n = 1 for the first), counting what it got. */
async function fakeServer(reply: (n: number, req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; count(): number; close(): Promise<void> }> {
  let n = 0;
  const server: Server = createServer((req, res) => reply(++n, req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    count: () => n,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};
const unavailable = { error: { code: 'UNAVAILABLE', message: 'retry shortly' } };

describe('client transport', () => {
  test('503 and 429 are retried up to the bound, then thrown with the server code and the attempts made', async () => {
    for (const [status, code] of [[503, 'UNAVAILABLE'], [429, 'TOO_MANY_REQUESTS']] as const) {
      const server = await fakeServer((_, __, res) =>
        send(res, status, status === 503 ? unavailable : { message: 'Too Many Requests' }, { 'retry-after': '0' }),
      );
      try {
        const client = new SkycacheClient({ baseUrl: server.url, retry: { attempts: 4, baseDelayMs: 1 } });
        const error = await client.get('k').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SkycacheError);
        expect(error).toMatchObject({ code, status, attempts: 4 });
        expect(server.count()).toBe(4);
      } finally {
        await server.close();
      }
    }
  });

  test('a retry that succeeds answers normally; attempts: 1 means no retry', async () => {
    const server = await fakeServer((n, _, res) =>
      n <= 2 ? send(res, 503, unavailable, { 'retry-after': '0' }) : send(res, 200, { key: 'k', value: 1, version: 7 }, { etag: '"7"' }),
    );
    try {
      expect((await new SkycacheClient({ baseUrl: server.url, retry: { baseDelayMs: 1 } }).get('k'))?.value).toBe(1);
      expect(server.count()).toBe(3);
      const once = new SkycacheClient({ baseUrl: server.url, retry: { attempts: 1 } });
      expect(server.count()).toBe(3);
      await expect(once.get('k')).resolves.toMatchObject({ value: 1 });
    } finally {
      await server.close();
    }
  });

  test('Retry-After is honoured (seconds or a date), capped; without it the backoff is jittered under a doubling ceiling', () => {
    expect(retryDelayMs(1, '1', {}, () => 0)).toBe(1000);
    expect(retryDelayMs(1, '30', { maxDelayMs: 5000 }, () => 0)).toBe(5000);
    const inTwoSeconds = new Date(Date.now() + 2000).toUTCString();
    expect(retryDelayMs(1, inTwoSeconds, {}, () => 0)).toBeGreaterThan(500);
    expect(retryDelayMs(1, null, { baseDelayMs: 100 }, () => 0.999)).toBeLessThan(100);
    expect(retryDelayMs(3, null, { baseDelayMs: 100 }, () => 0.999)).toBeGreaterThan(390);
    expect(retryDelayMs(3, null, { baseDelayMs: 100 }, () => 0.999)).toBeLessThan(400);
    expect(retryDelayMs(20, null, { baseDelayMs: 100, maxDelayMs: 700 }, () => 0.999)).toBeLessThan(700);
    expect(retryDelayMs(2, null, {}, () => 0)).toBe(0);
  });

  test('per-call timeouts and AbortSignal end a call that gets no answer', async () => {
    const held: ServerResponse[] = [];
    const server = await fakeServer((_, __, res) => held.push(res));
    try {
      const client = new SkycacheClient({ baseUrl: server.url });
      await expect(client.get('k', { timeoutMs: 100 })).rejects.toMatchObject({ code: 'TIMEOUT', status: 0 });
      const controller = new AbortController();
      const call = client.get('k', { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await expect(call).rejects.toMatchObject({ code: 'ABORTED' });
    } finally {
      await server.close();
    }
  });

  test('errors carry the server code, message, details and request id; 404 reads are null', async () => {
    const server = await fakeServer((n, _, res) =>
      n === 1
        ? send(res, 409, { error: { code: 'VERSION_CONFLICT', message: 'at 5', details: { currentVersion: 5 } } }, { 'x-request-id': 'r-1' })
        : send(res, 404, { error: { code: 'NOT_FOUND', message: 'no entry' } }),
    );
    try {
      const client = new SkycacheClient({ baseUrl: server.url });
      await expect(client.set('k', 1, { ifVersion: 4 })).rejects.toMatchObject({
        code: 'VERSION_CONFLICT',
        status: 409,
        message: 'at 5',
        details: { currentVersion: 5 },
        requestId: 'r-1',
      });
      expect(await client.get('k')).toBeNull();
    } finally {
      await server.close();
    }
  });

  test('write-behind: a batch that keeps failing is reported by onError and thrown from close with its items', async () => {
    const server = await fakeServer((_, __, res) => send(res, 201, { key: 'k', version: 1, ttl: 60, createdAt: '', updatedAt: '', tags: [] }));
    try {
      const client = new SkycacheClient({ baseUrl: server.url });
      const reported: string[][] = [];
      let calls = 0;
      const queue = client.writeBehind<number>({
        attempts: 3,
        flushIntervalMs: 10,
        persist: async () => {
          calls++;
          throw new Error('source down');
        },
        onError: (e) => {
          reported.push(e.items.map((i) => i.key));
          throw new Error('a throwing onError changes nothing');
        },
      });
      await queue.set('a', 1);
      await queue.set('b', 2);
      const error = await queue.close().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WriteBehindError);
      expect((error as WriteBehindError).items.map((i) => i.key).sort()).toEqual(['a', 'b']);
      expect(reported.flat().sort()).toEqual(['a', 'b']);
      expect(calls % 3).toBe(0);
      await expect(queue.set('c', 3)).rejects.toThrow(/closed/);
    } finally {
      await server.close();
    }
  });

  test('the route map is the server route table (method and path of every route)', () => {
    expect(Object.fromEntries(Object.entries(ROUTES).map(([id, [method, path]]) => [id, `${method} ${path}`]))).toEqual(
      Object.fromEntries(routes.map((r) => [r.id, `${r.method} ${r.path}`])),
    );
  });

  test('the near cache keeps at most maxEntries, dropping the least recently used', () => {
    const near = new NearCache<{ version: number }>(2);
    near.set('a', { version: 1 });
    near.set('b', { version: 1 });
    near.get('a');
    near.set('c', { version: 1 });
    expect([near.get('a'), near.get('b'), near.get('c')]).toEqual([{ version: 1 }, undefined, { version: 1 }]);
    expect(near.size).toBe(2);
    expect(() => new NearCache(0)).toThrow(/maxEntries/);
  });
});

describe('SigV4 (AWS Signature Version 4 test suite, credentials AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1/service)', () => {
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const date = new Date('2015-08-30T12:36:00Z');
  const sign = (url: string) => signV4({ method: 'GET', url: new URL(url), headers: {} }, credentials, 'us-east-1', 'service', date);

  test('get-vanilla', () => {
    expect(sign('https://example.amazonaws.com/')).toEqual({
      'x-amz-date': '20150830T123600Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, ' +
        'Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    });
  });

  test('get-vanilla-query-order-key-case: the query is sorted before signing', () => {
    expect(sign('https://example.amazonaws.com/?Param2=value2&Param1=value1').authorization).toMatch(
      /Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500$/,
    );
  });

  test('the signer hook signs each attempt, with the session token of temporary credentials', async () => {
    const signer = sigV4Signer({ region: 'eu-west-1', credentials: async () => ({ ...credentials, sessionToken: 'tok' }), now: () => date });
    const headers = await signer({ method: 'POST', url: new URL('https://abc.execute-api.eu-west-1.amazonaws.com/prod/cache'), headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(headers['x-amz-security-token']).toBe('tok');
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20150830\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
  });
});
