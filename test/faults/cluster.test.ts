import Redis, { Cluster } from 'ioredis';
import { startRedisCluster, type RedisClusterProcess } from '../../lambdas/local/redis-cluster';
import { startLocalServer, type LocalServer } from '../../lambdas/local/server';
import { entryKey, slotOf } from '../../lambdas/core/keyspace';
import { restoreServiceEnv, setServiceEnv } from '../support/env';
import { isOk, sleep, startLoad, summarize, until, type LoadRequest } from '../support/load';

/** One 3-primary/3-replica cluster for the file: keyspace-wide work, replica reads, then the faults. */
const TIMEOUT_MS = 1000;
// Scheduling slack on a busy 2-core CI machine; a hung request would take far longer (the load aborts it at +1.5 s).
const HANG_MARGIN_MS = 800;
let cluster: RedisClusterProcess;
let server: LocalServer;
let admin: Cluster;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const getJson = async (url: string, init?: RequestInit): Promise<Json> => (await fetch(url, init)).json();
const post = (body: unknown) =>
  fetch(`${server.url}/cache`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

interface ClusterNodeLine {
  id: string;
  port: number;
  role: 'master' | 'slave';
  masterId: string;
  failed: boolean;
}
async function topology(): Promise<ClusterNodeLine[]> {
  for (const n of cluster.nodes) {
    if (n.process.exitCode !== null || n.process.signalCode !== null) continue;
    const c = new Redis(n.port, '127.0.0.1', { maxRetriesPerRequest: 0, lazyConnect: true });
    try {
      await c.connect();
      const text = String(await c.cluster('NODES'));
      return text
        .trim()
        .split('\n')
        .map((line) => {
          const [id, addr, flags, masterId] = line.split(' ');
          return {
            id,
            port: Number(addr.split('@')[0].split(':')[1]),
            role: flags.includes('master') ? 'master' : 'slave',
            masterId,
            failed: /fail/.test(flags),
          } as ClusterNodeLine;
        });
    } catch {
      // try the next node
    } finally {
      c.disconnect();
    }
  }
  throw new Error('no cluster node answered');
}
async function roleOf(port: number): Promise<string> {
  const c = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, lazyConnect: true, connectTimeout: 500 });
  try {
    await c.connect();
    return String((await c.role())[0]);
  } finally {
    c.disconnect();
  }
}

beforeAll(async () => {
  cluster = await startRedisCluster();
  admin = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0].port }]);
  await setServiceEnv({
    REDIS_URL: undefined,
    REDIS_CLUSTER_NODES: cluster.seedList,
    REDIS_TIMEOUT_MS: String(TIMEOUT_MS),
  });
  server = await startLocalServer();
}, 60_000);
afterAll(async () => {
  await server?.close();
  await restoreServiceEnv();
  admin?.disconnect();
  await cluster?.stop();
});

describe('keyspace-wide work covers every primary', () => {
  test('prefix invalidation, stats sums and key counts across the three shards', async () => {
    await Promise.all(Array.from({ length: 300 }, (_, i) => post({ key: `inv:${i}`, value: i })));
    await Promise.all(Array.from({ length: 90 }, (_, i) => post({ key: `keep:${i}`, value: i })));
    const masters = admin.nodes('master');
    expect(masters).toHaveLength(3);
    const perShard = await Promise.all(masters.map((m) => m.dbsize()));
    expect(perShard.every((n) => n > 50)).toBe(true);

    for (let i = 0; i < 30; i++) await fetch(`${server.url}/cache/inv:${i}`);
    for (let i = 0; i < 12; i++) await fetch(`${server.url}/cache/absent:${i}`);
    const stats = await getJson(`${server.url}/cache/stats`);
    expect(stats.redis.nodes).toBe(3);
    expect(stats.hits).toBe(30);
    expect(stats.misses).toBe(12);
    const entryCount = (await Promise.all(masters.map((m) => m.keys('k:*')))).flat().length;
    expect(entryCount).toBe(390);
    expect(stats.redis.keys).toBe(390); // entries only: the hit/miss counter hashes are not counted

    const inv = await (
      await fetch(`${server.url}/cache/invalidate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prefix: 'inv:' }),
      })
    ).json();
    expect(inv).toEqual({ invalidated: 300 });
    expect((await Promise.all(masters.map((m) => m.keys('k:inv:*')))).flat()).toEqual([]);
    expect((await Promise.all(masters.map((m) => m.keys('k:keep:*')))).flat()).toHaveLength(90);
  });
});

describe('read preference in cluster mode', () => {
  afterAll(() => setServiceEnv({ REDIS_READ_FROM: undefined }));

  test('REDIS_READ_FROM=replica sends GETs to replicas; strong reads and writes go to primaries', async () => {
    await setServiceEnv({ REDIS_READ_FROM: 'replica' });
    const replicaGets = async () => {
      const replicas = (await topology()).filter((n) => n.role === 'slave');
      let total = 0;
      for (const r of replicas) {
        const c = new Redis(r.port, '127.0.0.1');
        const m = /cmdstat_get:calls=(\d+)/.exec(await c.info('commandstats'));
        total += Number(m?.[1] ?? 0);
        c.disconnect();
      }
      return total;
    };
    // The replica reader connects to each replica on first use; until a replica's connection is ready its primary
    // answers. Warm it up with passes over the keys until one pass is served by replicas alone (bounded in time).
    const warmUntil = Date.now() + 10_000;
    while (Date.now() < warmUntil) {
      const seen = await replicaGets();
      for (let i = 0; i < 20; i++) await fetch(`${server.url}/cache/keep:${i}`);
      if ((await replicaGets()) - seen >= 20) break;
      await sleep(100);
    }
    await sleep(300);
    const before = await replicaGets();
    for (let i = 0; i < 20; i++) expect((await fetch(`${server.url}/cache/keep:${i}`)).status).toBe(200);
    const afterEventual = await replicaGets();
    expect(afterEventual - before).toBeGreaterThanOrEqual(20);
    for (let i = 0; i < 20; i++) expect((await fetch(`${server.url}/cache/keep:${i}?consistency=strong`)).status).toBe(200);
    expect(await replicaGets()).toBe(afterEventual);

    const res = await post({ key: 'durable', value: 1, durability: 'replicated' });
    expect(res.status).toBe(201);
    expect(((await res.json()) as Json).replication).toEqual({ requested: 1, acknowledged: 1, replicated: true, connectedReplicas: expect.any(Number) });
  });
});

/** Writes of unique keys (so each acknowledged write can be checked afterwards) mixed with reads. */
function mixedLoad(tag: string) {
  return (w: number, i: number): LoadRequest =>
    i % 3 === 2
      ? { op: 'get', key: `${tag}:${w}:${i - 1}`, method: 'GET', path: `/cache/${tag}:${w}:${i - 1}` }
      : { op: 'set', key: `${tag}:${w}:${i}`, method: 'POST', path: '/cache', body: { key: `${tag}:${w}:${i}`, value: i } };
}

async function lostAcknowledgedWrites(samples: { op: string; key: string; status: unknown }[]): Promise<number> {
  const acked = samples.filter((s) => s.op === 'set' && s.status === 201).map((s) => entryKey(s.key));
  const present = await Promise.all(acked.map((k) => admin.exists(k)));
  return present.filter((n) => n === 0).length;
}

describe('faults', () => {
  test('planned failover (CLUSTER FAILOVER) under load loses no acknowledged write', async () => {
    const nodes = await topology();
    const replica = nodes.find((n) => n.role === 'slave')!;
    const load = startLoad(server.url, mixedLoad('pf'), { workers: 4, hangAfterMs: TIMEOUT_MS + 1500, pauseMs: 2 });
    await sleep(1000);
    const failoverAt = Date.now();
    const c = new Redis(replica.port, '127.0.0.1');
    await c.cluster('FAILOVER');
    c.disconnect();
    const promotedAt = await until('the replica to be promoted', async () => (await roleOf(replica.port)) === 'master', 10_000);
    await sleep(3000);
    const samples = await load.stop();
    summarize('planned failover (whole run)', samples);
    summarize('planned failover (failover to +3 s)', samples, failoverAt);
    const lost = await lostAcknowledgedWrites(samples);
    console.log(`[fault] planned failover: promoted after ${promotedAt - failoverAt} ms; acknowledged writes lost: ${lost}`);
    expect(lost).toBe(0);
    const failures = samples.filter((s) => !isOk(s));
    expect(failures.every((s) => s.status === 503)).toBe(true);
  });

  test('killing a primary under load: only 503s, nothing hangs, recovery within 10 s of the promotion', async () => {
    const nodes = await topology();
    const victim = nodes.find((n) => n.role === 'master' && nodes.some((r) => r.masterId === n.id && !r.failed))!;
    const heir = nodes.find((n) => n.masterId === victim.id)!;
    const victimProcess = cluster.nodes.find((p) => p.port === victim.port)!;
    const load = startLoad(server.url, mixedLoad('kp'), { workers: 4, hangAfterMs: TIMEOUT_MS + 1500, pauseMs: 2 });
    await sleep(1000);
    const killedAt = Date.now();
    victimProcess.kill();
    // Keyspace-wide work during the outage must not silently skip the dead shard.
    await sleep(300);
    const statsDuring = await fetch(`${server.url}/cache/stats`);
    const invalidateDuring = await fetch(`${server.url}/cache/invalidate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prefix: 'nothing-here:' }),
    });
    const promotedAt = await until('the replica to be promoted', async () => (await roleOf(heir.port)) === 'master', 20_000, 100);
    // Keep the load on until every request has been fine for 2 s (or 12 s have passed since the promotion).
    const lastFailureEnd = () => Math.max(0, ...load.samples.filter((s) => !isOk(s)).map((s) => s.end));
    await until(
      'two clean seconds after the promotion',
      async () => Date.now() - Math.max(promotedAt, lastFailureEnd()) > 2000,
      12_000,
      100,
    ).catch(() => undefined);
    const samples = await load.stop();

    summarize('primary killed (whole run)', samples);
    summarize('primary killed (kill to promotion)', samples, killedAt, promotedAt);
    summarize('primary killed (after promotion)', samples, promotedAt);
    const recovery = lastFailureEnd() - promotedAt;
    console.log(
      `[fault] primary killed: promotion ${promotedAt - killedAt} ms after the kill; last failure ended ` +
        `${recovery} ms after the promotion; during the outage stats answered ${statsDuring.status} and prefix ` +
        `invalidation ${invalidateDuring.status}`,
    );
    const failures = samples.filter((s) => !isOk(s));
    expect(failures.every((s) => s.status === 503)).toBe(true);
    expect(samples.every((s) => s.end - s.start < TIMEOUT_MS + HANG_MARGIN_MS)).toBe(true);
    expect(recovery).toBeLessThan(10_000);
    expect(samples.filter((s) => s.start > lastFailureEnd()).length).toBeGreaterThan(20);
    // Keyspace-wide work never skips the shard without a primary: 503, not a partial figure.
    expect(statsDuring.status).toBe(503);
    expect(invalidateDuring.status).toBe(503);
    // After recovery, keyspace-wide work sees all three shards again.
    const stats = await getJson(`${server.url}/cache/stats`);
    expect(stats.redis.nodes).toBe(3);
  });

  test('with REDIS_READ_FROM=replica, reads of a shard whose primary died are still served by its replica', async () => {
    await setServiceEnv({ REDIS_READ_FROM: 'replica' });
    try {
      const nodes = await topology();
      const victim = nodes.find((n) => n.role === 'master' && !n.failed && nodes.some((r) => r.masterId === n.id && !r.failed))!;
      const heir = nodes.find((n) => n.masterId === victim.id && !n.failed)!;
      const victimProcess = cluster.nodes.find((p) => p.port === victim.port)!;
      // Keys that live on the victim's shard, written (and replicated) before the fault.
      const ranges = await slotRangesOf(victim.port);
      const keys: string[] = [];
      for (let i = 0; keys.length < 40; i++) {
        const slot = slotOf(entryKey(`rr:${i}`));
        if (ranges.some(([from, to]) => slot >= from && slot <= to)) keys.push(`rr:${i}`);
      }
      for (const k of keys) expect((await post({ key: k, value: k, durability: 'replicated' })).status).toBe(201);
      await fetch(`${server.url}/cache/${keys[0]}`); // connects the replica reader
      await sleep(300);

      const load = startLoad(
        server.url,
        (w, i) => {
          const k = keys[(w * 7 + i) % keys.length];
          return { op: 'get', key: k, method: 'GET', path: `/cache/${k}` };
        },
        { workers: 4, hangAfterMs: TIMEOUT_MS + 1500, pauseMs: 5 },
      );
      await sleep(500);
      const killedAt = Date.now();
      victimProcess.kill();
      const promotedAt = await until('the replica to be promoted', async () => (await roleOf(heir.port)) === 'master', 20_000, 100);
      await sleep(2000);
      const samples = await load.stop();
      summarize('replica reads, primary killed (kill to promotion)', samples, killedAt, promotedAt);
      summarize('replica reads, primary killed (whole run)', samples);
      const during = samples.filter((s) => s.start >= killedAt && s.end <= promotedAt);
      expect(during.filter((s) => s.status === 200).length).toBeGreaterThan(20);
      expect(samples.filter((s) => !isOk(s)).every((s) => s.status === 503)).toBe(true);
    } finally {
      await setServiceEnv({ REDIS_READ_FROM: undefined });
    }
  });
});

/** The slot ranges the node on `port` serves as primary. */
async function slotRangesOf(port: number): Promise<[number, number][]> {
  const c = new Redis(port, '127.0.0.1');
  try {
    const myId = String(await c.cluster('MYID'));
    const slots = await c.cluster('SLOTS');
    return slots.filter(([, , primary]) => primary?.[2] === myId).map(([from, to]) => [from, to] as [number, number]);
  } finally {
    c.disconnect();
  }
}
