import { request } from 'node:http';
import { connect } from 'node:net';
import { startLocalServer, type LocalServer } from '../lambdas/local/server';
import { entryKey } from '../lambdas/core/keyspace';
import { services } from '../lambdas/services';
import { MAX_VALUE_DEPTH } from '../lambdas/http/schemas';
import { useRedisServer } from './support/redis';

/** Regression tests for issue 10: validators that never repeat, nothing silently changed, every error as JSON. */
const redis = useRedisServer({}, { REDIS_TIMEOUT_MS: '2000' });
let server: LocalServer;
beforeAll(async () => {
  server = await startLocalServer();
});
afterAll(() => server?.close());
beforeEach(() => redis.client.flushall());

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A request sent as given: the path is not normalised and the body may be any bytes. */
function raw(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  const { hostname, port } = new URL(server.url);
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname,
        port,
        path,
        method,
        agent: false,
        headers: payload ? { 'content-type': 'application/json', 'content-length': String(payload.length), ...headers } : headers,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  raw(method, path, body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), headers);

/** Everything stored except the hit/miss counters, to prove a refused request changed nothing. */
async function stored(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const k of (await redis.client.keys('*')).sort()) {
    if (!k.startsWith('_:stats')) out[k] = String(await redis.client.dump(k));
  }
  return out;
}

function expectError(reply: Reply, status: number, code: string, mentions?: string) {
  expect({ status: reply.status, code: reply.body?.error?.code }).toEqual({ status, code });
  if (mentions) expect(reply.body.error.message).toContain(mentions);
}

/** An array nested `depth` levels deep: [[[…[1]…]]]. */
const nested = (depth: number) => '['.repeat(depth) + '1' + ']'.repeat(depth);

describe('versions and ETags never repeat across a key\'s lifetimes', () => {
  test('after a delete: the old ETag does not revalidate, the old version does not apply', async () => {
    const a = await call('POST', '/cache', { key: 'k', value: 'A' });
    expect((await call('DELETE', '/cache/k')).status).toBe(204);
    const b = await call('POST', '/cache', { key: 'k', value: 'B' });
    expect(b.body.version).not.toBe(a.body.version);
    expect(b.headers.etag).not.toBe(a.headers.etag);
    const revalidated = await call('GET', '/cache/k', undefined, { 'if-none-match': String(a.headers.etag) });
    expect(revalidated).toMatchObject({ status: 200, body: { value: 'B' } });
    expectError(await call('POST', '/cache', { key: 'k', value: 'C', ifVersion: a.body.version }), 409, 'VERSION_CONFLICT');
    expect((await call('POST', '/cache', { key: 'k', value: 'C' }, { 'if-match': String(a.headers.etag) })).status).toBe(412);
    expect((await call('GET', '/cache/k')).body.value).toBe('B');
  });

  test('after an expiry, and for counters too', async () => {
    const a = await services().entries.set('k', 'A', 60);
    await redis.client.pexpire(entryKey('k'), 1);
    while (await redis.client.exists(entryKey('k'))) await new Promise((r) => setTimeout(r, 5));
    const b = await services().entries.set('k', 'B', 60);
    expect(b.created).toBe(true);
    expect(b.version).toBeGreaterThan(a.version);
    const c1 = await call('POST', '/counters/c', { by: 1 });
    await call('DELETE', '/cache/c');
    const c2 = await call('POST', '/counters/c', { by: 1 });
    expect(c2.body.version).toBeGreaterThan(c1.body.version);
  });

  test('an entry already stored in the current form with a small version still reads, overwrites and bumps by one', async () => {
    await redis.client.set(entryKey('legacy'), '3:1000:2000:60000:5:["t"]{"x":1}', 'PX', 60_000);
    expect(await services().entries.get('legacy')).toMatchObject({ value: { x: 1 }, version: 3, tags: ['t'], createdAt: new Date(1000).toISOString() });
    expect(await services().entries.set('legacy', 2, 60, { condition: { ifVersion: 3 } })).toMatchObject({ created: false, version: 4 });
  });
});

describe('values that could not be kept exactly are refused, naming the field, and nothing changes', () => {
  test.each([
    ['an entry', '/cache', '{"key":"n","value":1e400}', 'value'],
    ['an entry', '/cache', '{"key":"n","value":{"id":12345678901234567890}}', 'value.id'],
    ['a batch item', '/cache/batch/set', '{"items":[{"key":"a","value":1},{"key":"n","value":[1e999]}]}', 'items.1.value.0'],
    ['a list value', '/lists/l/push', '{"values":[1,1e999]}', 'values.1'],
    ['a set member', '/sets/s/add', '{"members":[-1e400]}', 'members.0'],
    ['a hash field', '/hashes/h/set', '{"fields":{"a":1,"b":9007199254740993}}', 'fields.b'],
    ['a sorted-set member', '/zsets/z/add', '{"members":[{"member":{"n":1e400},"score":1}]}', 'members.0.member.n'],
  ])('%s (%s)', async (_what, path, body, field) => {
    await call('POST', '/cache', { key: 'n', value: 'kept' });
    const before = await stored();
    expectError(await call('POST', path, body), 400, 'VALIDATION_FAILED', `${field}: numbers must be finite`);
    expect(await stored()).toEqual(before);
  });

  test('numbers that can be kept read back exactly', async () => {
    const value = { max: 9007199254740991, min: -9007199254740991, tenth: 0.1, small: 5e-324 };
    await call('POST', '/cache', { key: 'n', value });
    expect((await call('GET', '/cache/n')).body.value).toEqual(value);
  });
});

describe('invalid UTF-8 anywhere is a 400, and nothing changes', () => {
  test('in the body, the path and the query', async () => {
    await call('POST', '/cache', { key: '\uFFFD', value: 'replacement character' });
    const before = await stored();
    const bad = Buffer.concat([Buffer.from('{"key":"'), Buffer.from([0xff]), Buffer.from('","value":1}')]);
    expectError(await raw('POST', '/cache', bad), 400, 'INVALID_JSON', 'UTF-8');
    expectError(await call('GET', '/cache?key=%FF'), 400, 'INVALID_KEY');
    expectError(await call('GET', '/cache/%FF'), 400, 'INVALID_KEY');
    expectError(await call('DELETE', '/lists/%FE%FF'), 400, 'INVALID_KEY');
    expectError(await call('GET', '/cache/x?touch=%FF'), 400, 'VALIDATION_FAILED');
    expect(await stored()).toEqual(before);
  });

  test('prefixes and tags are validated like keys', async () => {
    await call('POST', '/cache', { key: '\uFFFDabc', value: 1, tags: ['\uFFFD'] });
    const before = await stored();
    expectError(await call('POST', '/cache/invalidate', '{"prefix":"\\ud800"}'), 400, 'VALIDATION_FAILED', 'prefix');
    expectError(await call('POST', '/cache/invalidate', '{"tags":["\\udc00"]}'), 400, 'VALIDATION_FAILED', 'tags.0');
    expect(await stored()).toEqual(before);
  });
});

describe(`nesting deeper than ${MAX_VALUE_DEPTH} levels is refused; what is accepted reads back everywhere`, () => {
  test.each([MAX_VALUE_DEPTH + 1, 10_000, 100_000])('%i levels: 400 on entries, batches and lists', async (depth) => {
    const value = nested(depth);
    const before = await stored();
    expectError(await call('POST', '/cache', `{"key":"d","value":${value}}`), 400, 'VALIDATION_FAILED', 'value');
    expectError(await call('POST', '/cache/batch/set', `{"items":[{"key":"d","value":${value}}]}`), 400, 'VALIDATION_FAILED', 'items.0.value');
    expectError(await call('POST', '/lists/d/push', `{"values":[${value}]}`), 400, 'VALIDATION_FAILED', 'values.0');
    expectError(await call('POST', '/hashes/d/set', `{"fields":{"f":${value}}}`), 400, 'VALIDATION_FAILED', 'fields.f');
    expect(await stored()).toEqual(before);
  });

  test(`${MAX_VALUE_DEPTH} levels are accepted and read back by GET, batch get and list reads`, async () => {
    const value = JSON.parse(nested(MAX_VALUE_DEPTH));
    expect((await call('POST', '/cache', { key: 'd', value })).status).toBe(201);
    expect((await call('POST', '/lists/d2/push', { values: [value] })).status).toBe(201);
    expect((await call('GET', '/cache/d')).body.value).toEqual(value);
    expect((await call('POST', '/cache/batch/get', { keys: ['d'] })).body.items[0].value).toEqual(value);
    expect((await call('GET', '/lists/d2')).body.values).toEqual([value]);
  });
});

describe('keys "." and ".." are reachable on every keyed route', () => {
  test('entries by percent-encoded path and by ?key=', async () => {
    expect((await call('POST', '/cache', { key: '.', value: 'dot' })).status).toBe(201);
    expect((await call('POST', '/cache', { key: '..', value: 'dots' })).status).toBe(201);
    expect((await raw('GET', '/cache/%2E')).body).toMatchObject({ key: '.', value: 'dot' });
    expect((await raw('GET', '/cache/%2E%2E')).body).toMatchObject({ key: '..', value: 'dots' });
    expect((await call('GET', '/cache?key=..')).body).toMatchObject({ value: 'dots' });
    expect((await call('GET', '/cache/_/ttl?key=..')).body).toMatchObject({ key: '..' });
    expect((await call('DELETE', '/cache/_?key=.')).status).toBe(204);
    expect((await call('GET', '/cache?key=.')).status).toBe(404);
  });

  test('data structures through `_` in the key\'s place and ?key=; `_` alone is still the key "_"', async () => {
    expect((await call('POST', '/lists/_/push?key=..', { values: [1, 2] })).status).toBe(201);
    expect((await call('GET', '/lists/_/size?key=..')).body).toMatchObject({ key: '..', size: 2 });
    expect((await raw('GET', '/lists/%2E%2E')).body).toMatchObject({ key: '..', values: [1, 2] });
    expect((await call('POST', '/counters/_?key=.', { by: 3 })).body).toMatchObject({ key: '.', value: 3 });
    expect((await call('POST', '/sets/_/add', { members: ['x'] })).body).toMatchObject({ key: '_' });
    expect(await redis.client.exists(entryKey('_'), entryKey('..'), entryKey('.'))).toBe(3);
  });
});

describe('every error the local server answers is the JSON error model', () => {
  function rawRequest(text: string): Promise<string> {
    const { hostname, port } = new URL(server.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.end(text));
      let answer = '';
      socket.on('data', (d) => (answer += d.toString('latin1')));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
    });
  }
  const jsonOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

  test('raw non-ASCII bytes in the path', async () => {
    const answer = await rawRequest('GET /cache/\xff\xfe HTTP/1.1\r\nhost: x\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1.1 400 .*\r\n(.*\r\n)*content-type: application\/json/);
    expect(jsonOf(answer).error.code).toBe('BAD_REQUEST');
  });

  test('a 20 KB URL or header', async () => {
    for (const text of [
      `GET /cache/${'a'.repeat(20_000)} HTTP/1.1\r\nhost: x\r\n\r\n`,
      `GET /cache/a HTTP/1.1\r\nhost: x\r\nx-big: ${'b'.repeat(20_000)}\r\n\r\n`,
    ]) {
      const answer = await rawRequest(text);
      expect(answer).toMatch(/^HTTP\/1.1 431 /);
      expect(jsonOf(answer).error.code).toBe('HEADERS_TOO_LARGE');
    }
  });
});

describe('durability "replicated" without a replica', () => {
  test('answers replicated:false at once, and never stalls other requests', async () => {
    await call('POST', '/cache', { key: 'r', value: 0 });
    const writes = Array.from({ length: 5 }, (_, i) => call('POST', '/cache', { key: `w${i}`, value: i, durability: 'replicated' }));
    const reads = Array.from({ length: 5 }, () => call('GET', '/cache/r'));
    for (const w of await Promise.all(writes)) {
      expect(w).toMatchObject({ status: 201, body: { replication: { requested: 1, acknowledged: 0, replicated: false, connectedReplicas: 0 } } });
    }
    expect((await Promise.all(reads)).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  });
});
