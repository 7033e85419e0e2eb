/**
 * Issue 13, server side: leases on a miss, grace (stale-while-revalidate) and external versions, over HTTP against
 * a real Redis — a single node and a 3-primary cluster (the lease key lives in the entry's slot).
 */
import { resetRuntimeConfig } from '../lambdas/core/config';
import { entryKey, leaseKey } from '../lambdas/core/keyspace';
import { whenReady } from '../lambdas/core/readiness';
import { primaries, type RedisClient } from '../lambdas/core/redis';
import { startRedisCluster } from '../lambdas/local/redis-cluster';
import { startRedisProcess } from '../lambdas/local/redis-process';
import { startLocalServer, type LocalServer } from '../lambdas/local/server';
import { closeServices, resetServices, services } from '../lambdas/services';

interface Reply {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

describe.each(['single node', 'cluster'] as const)('leases and grace on a %s', (kind) => {
  let server: LocalServer;
  let stopRedis: () => Promise<void>;
  const saved = { url: process.env.REDIS_URL, nodes: process.env.REDIS_CLUSTER_NODES };
  const clustered = kind === 'cluster';

  beforeAll(async () => {
    if (clustered) {
      const cluster = await startRedisCluster({ replicasPerPrimary: 0 });
      stopRedis = () => cluster.stop();
      delete process.env.REDIS_URL;
      process.env.REDIS_CLUSTER_NODES = cluster.seedList;
    } else {
      const redis = await startRedisProcess();
      stopRedis = () => redis.stop();
      delete process.env.REDIS_CLUSTER_NODES;
      process.env.REDIS_URL = redis.url;
    }
    resetRuntimeConfig();
    resetServices();
    await whenReady(services().redis, 10_000);
    server = await startLocalServer();
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await closeServices();
    for (const [name, value] of [['REDIS_URL', saved.url], ['REDIS_CLUSTER_NODES', saved.nodes]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    resetRuntimeConfig();
    await stopRedis?.();
  });
  beforeEach(async () => {
    await Promise.all(primaries(services().redis).map((node) => node.flushall()));
  });

  const redis = (): RedisClient => services().redis;
  const leaseKeyOf = (key: string) => leaseKey(entryKey(key), clustered);

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const res = await fetch(server.url + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }
  const read = (key: string, query = '') => call('GET', `/cache/${encodeURIComponent(key)}${query}`);
  const write = (body: Record<string, unknown>) => call('POST', '/cache', body);

  /** Moves an entry written with grace past its TTL at once (its stale-at field), as the clock would. */
  async function makeStale(key: string): Promise<void> {
    const raw = await redis().get(entryKey(key));
    expect(raw?.startsWith('g')).toBe(true);
    await redis().setrange(entryKey(key), 1, String(Date.now() - 1000).padStart(15, '0'));
  }

  test('on a miss exactly one caller gets the lease; the others are told it is being filled, for how long', async () => {
    const first = await read('cold', '?lease=5000');
    expect(first.status).toBe(404);
    expect(first.body.error.code).toBe('NOT_FOUND');
    const { token, ttlMs } = first.body.error.details.lease;
    expect(typeof token).toBe('string');
    expect(ttlMs).toBeGreaterThan(0);
    expect(ttlMs).toBeLessThanOrEqual(5000);
    const others = await Promise.all(Array.from({ length: 20 }, () => read('cold', '?lease=5000')));
    for (const other of others) {
      expect(other.status).toBe(404);
      expect(other.body.error.code).toBe('FILLING');
      expect(other.body.error.details.retryAfterMs).toBeGreaterThan(0);
    }
    // A plain read is still a plain miss, and creates nothing.
    expect((await read('cold')).body.error.code).toBe('NOT_FOUND');
    expect(await redis().exists(entryKey('cold'))).toBe(0);

    const filled = await write({ key: 'cold', value: { loaded: 1 }, ttl: 60, lease: token });
    expect(filled.status).toBe(201);
    expect(await redis().exists(leaseKeyOf('cold'))).toBe(0);
    const hit = await read('cold', '?lease=5000');
    expect(hit.status).toBe(200);
    expect(hit.body.value).toEqual({ loaded: 1 });
    expect(hit.body.lease).toBeUndefined();
  });

  test('many concurrent lease reads of one cold key grant exactly one lease', async () => {
    const replies = await Promise.all(Array.from({ length: 50 }, () => read('race', '?lease=5000')));
    expect(replies.filter((r) => r.body.error.details?.lease).length).toBe(1);
    expect(replies.filter((r) => r.body.error.code === 'FILLING').length).toBe(49);
  });

  test('a foreign, used or expired token is refused with 409 and changes nothing', async () => {
    const { token } = (await read('k', '?lease=5000')).body.error.details.lease;
    const foreign = await write({ key: 'k', value: 'x', lease: 'not-the-token' });
    expect(foreign.status).toBe(409);
    expect(foreign.body.error.code).toBe('LEASE_CONFLICT');
    expect(await redis().exists(entryKey('k'))).toBe(0);
    expect(await redis().get(leaseKeyOf('k'))).toBe(token);

    expect((await write({ key: 'k', value: 'first', lease: token })).status).toBe(201);
    const before = await redis().get(entryKey('k'));
    const again = await write({ key: 'k', value: 'second', lease: token });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('LEASE_CONFLICT');
    expect(await redis().get(entryKey('k'))).toBe(before);

    // A lease its holder abandons expires; its token is refused after, and the next caller gets a new lease.
    const short = (await read('gone', '?lease=50')).body.error.details.lease;
    for (let i = 0; i < 200 && (await redis().exists(leaseKeyOf('gone'))); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await redis().exists(leaseKeyOf('gone'))).toBe(0);
    const late = await write({ key: 'gone', value: 'late', lease: short.token });
    expect(late.status).toBe(409);
    expect(await redis().exists(entryKey('gone'))).toBe(0);
    const next = await read('gone', '?lease=5000');
    expect(next.body.error.details.lease.token).not.toBe(short.token);
  });

  test('a holder may give its lease up; the next caller then gets one at once', async () => {
    const { token } = (await read('r', '?lease=60000')).body.error.details.lease;
    expect((await call('POST', '/cache/lease/release', { key: 'r', token: 'other' })).status).toBe(409);
    expect((await call('POST', '/cache/lease/release', { key: 'r', token })).status).toBe(204);
    expect((await call('POST', '/cache/lease/release', { key: 'r', token })).body.error.code).toBe('LEASE_CONFLICT');
    expect((await read('r', '?lease=60000')).body.error.details.lease.token).not.toBe(token);
  });

  test('a plain write or a delete ends the lease: a fill loaded before it is refused', async () => {
    const { token } = (await read('w', '?lease=5000')).body.error.details.lease;
    expect((await write({ key: 'w', value: 'newer' })).status).toBe(201);
    expect((await write({ key: 'w', value: 'older load', lease: token })).status).toBe(409);
    expect((await read('w')).body.value).toBe('newer');

    const second = (await read('d', '?lease=5000')).body.error.details.lease;
    expect((await call('DELETE', '/cache/d')).status).toBe(404);
    expect((await write({ key: 'd', value: 'older load', lease: second.token })).status).toBe(409);
    expect(await redis().exists(entryKey('d'))).toBe(0);
  });

  test('grace: fresh entries show it; stale ones are served marked stale only to callers that accept them', async () => {
    const written = await write({ key: 'g', value: { n: 1 }, ttl: 60, grace: 30, tags: ['t'] });
    expect(written.status).toBe(201);
    expect(written.body.grace).toBe(30);
    const fresh = await read('g');
    expect(fresh.body).toMatchObject({ value: { n: 1 }, grace: 30, stale: false });
    expect(fresh.body.ttl).toBeGreaterThan(50);
    expect(fresh.headers.get('x-skycache-stale')).toBeNull();
    // The key itself lives the grace longer than the TTL.
    expect(await redis().pttl(entryKey('g'))).toBeGreaterThan(80_000);
    expect((await call('GET', '/cache/g/ttl')).body).toEqual({ key: 'g', ttl: fresh.body.ttl, grace: 30, stale: false });

    await makeStale('g');
    expect((await read('g')).status).toBe(404);
    const stale = await read('g', '?allowStale=true');
    expect(stale.status).toBe(200);
    expect(stale.body).toMatchObject({ value: { n: 1 }, ttl: 0, stale: true, version: fresh.body.version });
    expect(stale.body.grace).toBeGreaterThan(0);
    expect(stale.body.grace).toBeLessThanOrEqual(90);
    expect(stale.headers.get('x-skycache-stale')).toBe('true');
    expect(stale.headers.get('etag')).toBe(`"${fresh.body.version}"`);
    const notModified = await call('GET', '/cache/g?allowStale=true', undefined, { 'if-none-match': `"${fresh.body.version}"` });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('x-skycache-stale')).toBe('true');

    const batch = await call('POST', '/cache/batch/get', { keys: ['g'] });
    expect(batch.body.items).toEqual([{ key: 'g', found: false }]);
    const staleBatch = await call('POST', '/cache/batch/get', { keys: ['g'], allowStale: true });
    expect(staleBatch.body.items[0]).toMatchObject({ key: 'g', found: true, ttl: 0, stale: true, value: { n: 1 } });
    expect((await call('GET', '/cache/ttl?key=g')).body).toMatchObject({ key: 'g', ttl: 0, stale: true });

    // Invalidation by tag still reaches an entry in its grace.
    expect((await call('POST', '/cache/invalidate', { tags: ['t'] })).body).toMatchObject({ invalidated: 1 });
  });

  test('a stale entry: one lease reader refreshes it while the others get the stale value', async () => {
    const v1 = (await write({ key: 's', value: 'old', ttl: 60, grace: 60 })).body.version;
    await makeStale('s');
    const first = await read('s', '?lease=5000');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ value: 'old', stale: true });
    expect(first.body.lease.token).toBeTruthy();
    const others = await Promise.all(Array.from({ length: 10 }, () => read('s', '?lease=5000')));
    for (const other of others) {
      expect(other.status).toBe(200);
      expect(other.body).toMatchObject({ value: 'old', stale: true });
      expect(other.body.lease).toBeUndefined();
    }
    const refreshed = await write({ key: 's', value: 'new', ttl: 60, grace: 60, lease: first.body.lease.token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.version).toBe(v1 + 1);
    expect((await read('s', '?lease=5000')).body).toMatchObject({ value: 'new', stale: false, version: v1 + 1 });
  });

  test('touch and persist keep the grace; an entry without grace reads as before', async () => {
    await write({ key: 't', value: 1, ttl: 60, grace: 100 });
    const touched = await call('PUT', '/cache/t/ttl', { ttl: 10 });
    expect(touched.status).toBe(200);
    const pttl = await redis().pttl(entryKey('t'));
    expect(pttl).toBeGreaterThan(100_000);
    expect(pttl).toBeLessThanOrEqual(110_000);
    expect((await read('t')).body).toMatchObject({ grace: 100, stale: false });
    expect((await read('t')).body.ttl).toBeLessThanOrEqual(10);
    expect((await call('DELETE', '/cache/t/ttl')).status).toBe(200);
    expect((await read('t')).body).toMatchObject({ ttl: null, grace: 100, stale: false });

    await write({ key: 'plain', value: 2, ttl: 60 });
    const plain = await read('plain');
    expect(plain.body.grace).toBeUndefined();
    expect(plain.body.stale).toBeUndefined();
    expect((await call('GET', '/cache/plain/ttl')).body).toEqual({ key: 'plain', ttl: plain.body.ttl });
  });

  test('external versions: written only above the stored version, which they become', async () => {
    expect((await write({ key: 'e', value: 'five', externalVersion: 5 })).body.version).toBe(5);
    const older = await write({ key: 'e', value: 'three', externalVersion: 3 });
    expect(older.status).toBe(409);
    expect(older.body.error).toMatchObject({ code: 'VERSION_CONFLICT', details: { currentVersion: 5 } });
    expect((await write({ key: 'e', value: 'five again', externalVersion: 5 })).status).toBe(409);
    expect((await read('e')).body.value).toBe('five');
    expect((await write({ key: 'e', value: 'seven', externalVersion: 7 })).body.version).toBe(7);
    expect((await read('e')).body).toMatchObject({ value: 'seven', version: 7 });
  });

  test('bad lease, grace and version input is a 400 naming the problem', async () => {
    for (const query of ['?lease=0', '?lease=abc', '?lease=300001', '?lease=100&touch=5', '?allowStale=yes']) {
      const reply = await read('x', query);
      expect(reply.status).toBe(400);
      expect(reply.body.error.message).toMatch(/lease|allowStale/);
    }
    for (const body of [
      { key: 'x', value: 1, grace: 0 },
      { key: 'x', value: 1, lease: '' },
      { key: 'x', value: 1, externalVersion: 1.5 },
      { key: 'x', value: 1, externalVersion: 2, ifVersion: 1 },
    ]) {
      const reply = await write(body);
      expect(reply.status).toBe(400);
      expect(reply.body.error.message).toMatch(/grace|lease|externalVersion/);
    }
    expect((await call('POST', '/cache/batch/get', { keys: ['x'], allowStale: 'yes' })).status).toBe(400);
    expect(await redis().exists(entryKey('x'))).toBe(0);
  });
});
