import { Cluster } from 'ioredis';
import { startRedisCluster, type RedisClusterProcess } from '../lambdas/local/redis-cluster';
import { startLocalServer, type LocalServer } from '../lambdas/local/server';
import { resetRuntimeConfig } from '../lambdas/core/config';
import { entryKey, slotOf } from '../lambdas/core/keyspace';
import { closeServices, resetServices } from '../lambdas/services';

/** Every data-structure operation, over HTTP, on a real 3-primary Redis Cluster with keys in many slots. */
let cluster: RedisClusterProcess;
let server: LocalServer;
let client: Cluster;
const saved = { REDIS_URL: process.env.REDIS_URL, REDIS_CLUSTER_NODES: process.env.REDIS_CLUSTER_NODES };

beforeAll(async () => {
  cluster = await startRedisCluster();
  delete process.env.REDIS_URL;
  process.env.REDIS_CLUSTER_NODES = cluster.seedList;
  resetRuntimeConfig();
  resetServices();
  server = await startLocalServer();
  client = new Cluster(cluster.nodes.slice(0, 1).map((n) => ({ host: '127.0.0.1', port: n.port })));
  await client.ping();
}, 60_000);

afterAll(async () => {
  await server?.close();
  await closeServices();
  client?.disconnect();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  resetRuntimeConfig();
  await cluster?.stop();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Reply = { status: number; body: any };
async function call(method: string, path: string, body?: unknown): Promise<Reply> {
  const res = await fetch(server.url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
const post = (path: string, body: unknown) => call('POST', path, body);

/** Keys whose Redis keys fall on every primary: the same operations must work whatever node owns the slot. */
async function keysOnEveryPrimary(prefix: string): Promise<string[]> {
  const keys = Array.from({ length: 12 }, (_, i) => `${prefix}:${i}`);
  const owners = new Set<string>();
  for (const k of keys) {
    const node = client.slots[slotOf(entryKey(k))]?.[0];
    if (node) owners.add(node);
  }
  expect(owners.size).toBe(3);
  expect(new Set(keys.map((k) => slotOf(entryKey(k)))).size).toBe(keys.length);
  return keys;
}

test('lists, sets, hashes, sorted sets and counters on keys in different slots', async () => {
  const keys = await keysOnEveryPrimary('cl');
  for (const k of keys) {
    expect((await post(`/lists/${k}/push`, { values: [1, 2, 3], ttl: 60 })).status).toBe(201);
    expect((await post(`/lists/${k}/pop`, { end: 'left', count: 1 })).body.values).toEqual([1]);
    expect((await post(`/lists/${k}/trim`, { start: 0, stop: 0 })).body.size).toBe(1);
    expect((await call('GET', `/lists/${k}?start=0&stop=-1`)).body).toMatchObject({ values: [2], ttl: 60 });
    expect((await call('GET', `/lists/${k}/size`)).body.size).toBe(1);

    const s = `${k}:set`;
    expect((await post(`/sets/${s}/add`, { members: ['a', 'b'] })).body.added).toBe(2);
    expect((await post(`/sets/${s}/contains`, { members: ['a', 'z'] })).body.results).toEqual([true, false]);
    expect((await post(`/sets/${s}/remove`, { members: ['a'] })).body.size).toBe(1);
    expect((await call('GET', `/sets/${s}`)).body.members).toEqual(['b']);
    expect((await post(`/sets/${s}/pop`, {})).body.members).toEqual(['b']);
    expect((await call('GET', `/sets/${s}/size`)).body.size).toBe(0);

    const h = `${k}:hash`;
    expect((await post(`/hashes/${h}/set`, { fields: { n: 1, s: 'x' } })).status).toBe(201);
    expect((await post(`/hashes/${h}/increment`, { field: 'n', by: 4 })).body.value).toBe(5);
    expect((await post(`/hashes/${h}/get`, { fields: ['n', 'm'] })).body).toMatchObject({ fields: { n: 5 }, missing: ['m'] });
    expect((await post(`/hashes/${h}/remove`, { fields: ['s'] })).body.size).toBe(1);
    expect((await call('GET', `/hashes/${h}`)).body.fields).toEqual({ n: 5 });
    expect((await call('GET', `/hashes/${h}/size`)).body.size).toBe(1);

    const z = `${k}:zset`;
    expect((await post(`/zsets/${z}/add`, { members: [{ member: 'a', score: 1 }, { member: 'b', score: 2 }], gt: true })).status).toBe(201);
    expect((await post(`/zsets/${z}/increment`, { member: 'a', by: 5 })).body.score).toBe(6);
    expect((await call('GET', `/zsets/${z}?withScores=true`)).body.members).toEqual([{ member: 'b', score: 2 }, { member: 'a', score: 6 }]);
    expect((await call('GET', `/zsets/${z}/by-score?min=(2&max=+inf`)).body.members).toEqual(['a']);
    expect((await post(`/zsets/${z}/rank`, { member: 'a' })).body.rank).toBe(1);
    expect((await post(`/zsets/${z}/scores`, { members: ['a', 'b'] })).body.scores).toEqual([6, 2]);
    expect((await call('GET', `/zsets/${z}/count?min=0&max=3`)).body.count).toBe(1);
    expect((await post(`/zsets/${z}/remove`, { members: ['b'] })).body.size).toBe(1);
    expect((await call('GET', `/zsets/${z}/size`)).body.size).toBe(1);

    const c = `${k}:counter`;
    expect((await post(`/counters/${c}`, { by: 3 })).status).toBe(201);
    expect((await post(`/counters/${c}`, { by: -1 })).body.value).toBe(2);
    expect((await call('GET', `/cache/${c}`)).body.value).toBe(2);

    for (const path of [`/lists/${k}`, `/hashes/${h}`, `/zsets/${z}`]) expect((await call('DELETE', path)).status).toBe(204);
  }
});

test('wrong types are refused the same way on a cluster, the data staying where it was', async () => {
  const keys = await keysOnEveryPrimary('wt');
  for (const k of keys) {
    await post(`/counters/${k}`, {});
    const res = await post(`/lists/${k}/push`, { values: [1] });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'WRONG_TYPE', details: { actualType: 'string' } });
    expect((await call('GET', `/counters/${k}`)).body.value).toBe(1);
    expect(await client.get(entryKey(k))).toMatch(/^\d+:\d+:\d+:\d+:0:1$/);
  }
});
