import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import Redis, { Cluster } from 'ioredis';
import { lambdaContext, proxyEvent as routeEvent } from '../bench/lib/events';
import { loadHandler } from '../bench/lib/handlers';
import { samples, type CallRoute } from '../bench/samples';
import { readHitCounts } from '../lambdas/domain/stats';
import { startPrimaryWithReplica, startRedisCluster, type RedisClusterProcess, type ReplicatedRedisProcess } from '../lambdas/local/redis-cluster';
import { startRedisProcess, type RedisProcess } from '../lambdas/local/redis-process';
import { readsOnly, routes, type RouteDefinition } from '../lambdas/routes';
import { services } from '../lambdas/services';
import { commandsBetween as grown } from '../bench/lib/wire';
import { CONNECTION_COMMANDS, commandCalls, writeCommands } from './support/commandstats';
import { restoreServiceEnv, setServiceEnv } from './support/env';
import { until } from './support/load';

const readRoutes = routes.filter(readsOnly);

const ctx = lambdaContext();
const call = async (route: RouteDefinition, request: Parameters<typeof routeEvent>[1]) => loadHandler(route.handler)(routeEvent(route, request), ctx);
const callById: CallRoute = async (id, request) => {
  const res = await call(routes.find((r) => r.id === id)!, request);
  if (res.statusCode >= 300) throw new Error(`set-up ${id} answered ${res.statusCode}: ${res.body}`);
  return res;
};

/** Puts every read route's sample data in place (through the write routes and a plain client). */
async function setUpReads(admin: Redis | Cluster): Promise<void> {
  for (const route of readRoutes) for (const s of samples[route.id] ?? []) await s.setup?.(admin as Redis, callById);
}

/** One request per sample of every read route; each must get its expected answer. */
async function readPass(): Promise<void> {
  for (const route of readRoutes) {
    const list = samples[route.id] ?? [];
    expect(list.length).toBeGreaterThan(0); // every read route has a sample to drive it
    for (const s of list) {
      const res = await call(route, s.request);
      if (s.expectStatus) expect(`${route.id} ${res.statusCode}`).toBe(`${route.id} ${s.expectStatus}`);
      else expect(`${route.id} ${res.statusCode < 300}`).toBe(`${route.id} true`);
    }
  }
}

async function dataCommandsOn(ports: number[], work: () => Promise<void>): Promise<Record<number, Record<string, number>>> {
  const before = await Promise.all(ports.map(commandCalls));
  await work();
  const after = await Promise.all(ports.map(commandCalls));
  return Object.fromEntries(ports.map((p, i) => [p, grown(before[i], after[i])]));
}

const withoutConnectionUpkeep = (counts: Record<string, number>) =>
  Object.fromEntries(Object.entries(counts).filter(([name]) => !CONNECTION_COMMANDS.has(name)));

/** A private redis-server for the enclosing describe, a plain client on it, and the services pointed at it. */
function privateRedis(env: Record<string, string | undefined>): { redis: RedisProcess; admin: Redis } {
  const ctx = {} as { redis: RedisProcess; admin: Redis };
  beforeAll(async () => {
    ctx.redis = await startRedisProcess();
    ctx.admin = new Redis(ctx.redis.url);
    await setServiceEnv({ REDIS_URL: ctx.redis.url, REDIS_CLUSTER_NODES: undefined, ...env });
  });
  afterAll(async () => {
    ctx.admin?.disconnect();
    await restoreServiceEnv();
    await ctx.redis?.stop();
  });
  return ctx;
}

afterAll(() => restoreServiceEnv());

describe('single node: a run of reads sends no write command', () => {
  // As in Lambda: counts go to CloudWatch (EMF), nothing to Redis.
  const ctx = privateRedis({ HIT_COUNTS: 'metrics' });

  test('entries, batch get, ttl, counters, stats and every collection read: INFO commandstats before and after', async () => {
    await setUpReads(ctx.admin);
    await readPass(); // warm: scripts loaded, connections open
    const grew = (await dataCommandsOn([ctx.redis.port], readPass))[ctx.redis.port];
    expect(await writeCommands(ctx.redis.port, Object.keys(grew))).toEqual([]);
    expect(grew.get).toBeGreaterThan(0);
  });

  test('an entry read is plain read commands, no script', async () => {
    const getEntry = routes.find((r) => r.id === 'getEntry')!;
    const grew = (await dataCommandsOn([ctx.redis.port], async () => {
      for (const key of ['bench:get', 'bench:absent']) await call(getEntry, { pathParameters: { key } });
    }))[ctx.redis.port];
    // The stored entry carries its expiry: one GET, nothing else.
    expect(withoutConnectionUpkeep(grew)).toEqual({ get: 2 });
  });
});

describe('old-format entries still read', () => {
  const ctx = privateRedis({ HIT_COUNTS: 'off' });

  const getEntry = routes.find((r) => r.id === 'getEntry')!;
  const read = async (key: string) => {
    const res = await call(getEntry, { pathParameters: { key } });
    return { status: res.statusCode, body: JSON.parse(res.body || 'null') };
  };

  test.each([
    ['first form: version:createdAt:updatedAt:value', (t: number) => `4:${t - 5000}:${t}:{"a":[1,2]}`, []],
    ['tags form: version:createdAt:updatedAt:ttl:tagsLength:tags value', (t: number) => `4:${t - 5000}:${t}:600000:9:["x","y"]{"a":[1,2]}`, ['x', 'y']],
  ])('%s', async (_name, stored, tags) => {
    const t = 1_795_755_710_114;
    await ctx.admin.set('k:old', stored(t), 'PX', 600_000);
    await read('warm-up'); // the client connected (its INFO ready check) before measuring
    const before = await commandCalls(ctx.redis.port);
    const { status, body } = await read('old');
    // An older form does not carry its expiry: the read asks PTTL too (until the entry's next write).
    expect(withoutConnectionUpkeep(grown(before, await commandCalls(ctx.redis.port)))).toEqual({ get: 1, pttl: 1 });
    expect(status).toBe(200);
    expect(body).toEqual({
      key: 'old',
      value: { a: [1, 2] },
      ttl: 600,
      version: 4,
      createdAt: new Date(t - 5000).toISOString(),
      updatedAt: new Date(t).toISOString(),
      tags,
    });
    // And through the batch and counter reads, which share the decoding.
    const batch = await call(routes.find((r) => r.id === 'batchGet')!, { body: { keys: ['old'] } });
    expect(JSON.parse(batch.body).items[0]).toMatchObject({ key: 'old', found: true, version: 4, ttl: 600, tags });
  });

  test('the next write stores the current form, whose expiry moves with touch, persist, sliding reads and counters', async () => {
    await ctx.admin.set('k:old', '4:1:2:600000:0:7', 'PX', 600_000);
    const setEntry = routes.find((r) => r.id === 'setEntry')!;
    expect((await call(setEntry, { body: { key: 'old', value: 8, ttl: 300 } })).statusCode).toBe(200);
    const stored = (await ctx.admin.get('k:old'))!;
    expect(stored).toMatch(/^x\d{15}:5:1:\d+:300000:0:8$/);
    // The expiry in the entry is Redis's own expiry of the key, to the millisecond.
    expect(Number(stored.slice(1, 16))).toBe(Number(await ctx.admin.pexpiretime('k:old')));
    expect((await read('old')).body).toMatchObject({ value: 8, version: 5, ttl: 300 });
    const byId = (id: string) => routes.find((r) => r.id === id)!;
    const expiryOf = async () => Number((await ctx.admin.get('k:old'))!.slice(1, 16));
    await call(byId('touchEntry'), { pathParameters: { key: 'old' }, body: { ttl: 9000 } });
    expect((await read('old')).body.ttl).toBe(9000);
    expect(await expiryOf()).toBe(Number(await ctx.admin.pexpiretime('k:old')));
    await call(byId('persistEntry'), { pathParameters: { key: 'old' } });
    expect(await expiryOf()).toBe(0);
    expect((await read('old')).body.ttl).toBeNull();
    await call(getEntry, { pathParameters: { key: 'old' }, query: { touch: '120' } });
    expect((await read('old')).body.ttl).toBe(120);
    expect(await expiryOf()).toBe(Number(await ctx.admin.pexpiretime('k:old')));
    await call(byId('incrementCounter'), { pathParameters: { key: 'old' }, body: { by: 2 } });
    expect((await read('old')).body).toMatchObject({ value: 10, ttl: 120 });
    expect(await expiryOf()).toBe(Number(await ctx.admin.pexpiretime('k:old')));
    await call(getEntry, { pathParameters: { key: 'old' }, query: { sliding: 'true' } });
    expect((await read('old')).body.ttl).toBe(300); // the ttl of the last write that named one
    expect(await expiryOf()).toBe(Number(await ctx.admin.pexpiretime('k:old')));
  });

  test('a plain string written by another client reads as a string with version 0', async () => {
    await ctx.admin.set('k:foreign', 'hello');
    expect((await read('foreign')).body).toMatchObject({ value: 'hello', version: 0, ttl: null });
  });
});

describe('counts from several processes add up exactly after their flush', () => {
  let redis: RedisProcess;
  let admin: Redis;
  beforeAll(async () => {
    redis = await startRedisProcess();
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  const runProcess = (hits: number, misses: number, seconds: number) =>
    new Promise<Record<string, number>>((done, fail) => {
      execFile(
        resolve(__dirname, '../node_modules/.bin/tsx'),
        [resolve(__dirname, 'support/read-process.ts'), String(hits), String(misses), String(seconds)],
        { env: { ...process.env, REDIS_URL: redis.url, REDIS_CLUSTER_NODES: '', HIT_COUNTS: 'redis', POWERTOOLS_LOG_LEVEL: 'ERROR' }, timeout: 60_000 },
        (error, stdout, stderr) => (error ? fail(new Error(`${error.message}\n${stderr}`)) : done(JSON.parse(stdout.trim().split('\n').pop()!))),
      );
    });

  test('three processes, 3 s of reads each: exact sums, at most one MULTI per process per second', async () => {
    await admin.set('k:present', '1:1:1:0:0:"here"', 'EX', 600);
    const before = await commandCalls(redis.port);
    const plans = [
      [120, 30],
      [75, 75],
      [200, 1],
    ];
    const seconds = 3;
    const answered = await Promise.all(plans.map(([h, m]) => runProcess(h, m, seconds)));
    const after = await commandCalls(redis.port);
    for (const [i, a] of answered.entries()) expect(a).toEqual({ 200: plans[i][0], 404: plans[i][1] });
    const { counts } = await readHitCounts(admin);
    expect(counts.entries).toEqual({ hits: 395, misses: 106 });
    const multis = grown(before, after).multi ?? 0;
    // Each process publishes at most once a second while it reads, plus once at shutdown.
    expect(multis).toBeGreaterThanOrEqual(plans.length);
    expect(multis).toBeLessThanOrEqual(plans.length * (seconds + 2));
    // The writes of the whole run are those flushes, nothing per read.
    expect((await writeCommands(redis.port, Object.keys(grown(before, after)))).sort()).toEqual(['hincrby']);
    expect(grown(before, after).hincrby).toBeLessThanOrEqual(2 * multis);
  });
});

describe('cluster: no write per read; with REDIS_READ_FROM=replica the primaries are not asked', () => {
  let cluster: RedisClusterProcess;
  let admin: Cluster;
  let primaries: number[];
  let replicas: number[];
  beforeAll(async () => {
    cluster = await startRedisCluster();
    admin = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0].port }]);
    await admin.ping();
    const roles = await Promise.all(
      cluster.nodes.map(async (n) => {
        const c = new Redis(n.port, '127.0.0.1');
        const role = String((await c.role())[0]);
        c.disconnect();
        return [n.port, role] as const;
      }),
    );
    primaries = roles.filter(([, r]) => r === 'master').map(([p]) => p);
    replicas = roles.filter(([, r]) => r === 'slave').map(([p]) => p);
    await setServiceEnv({ REDIS_URL: undefined, REDIS_CLUSTER_NODES: cluster.seedList, HIT_COUNTS: 'metrics' });
    await setUpReads(admin);
  }, 60_000);
  afterAll(async () => {
    admin?.disconnect();
    await restoreServiceEnv();
    await cluster?.stop();
  });

  /**
   * Waits until every replica has applied all its primary sent: the set-up's writes reach a replica asynchronously,
   * and a replica counts each replicated write in its commandstats when it applies it (bounded in time).
   */
  async function replicasCaughtUp(): Promise<void> {
    const offsets = async (port: number) => {
      const c = new Redis(port, '127.0.0.1');
      try {
        const info = String(await c.info('replication'));
        const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
        return { port, master: field('master_port'), primaryOffset: field('master_repl_offset'), applied: field('slave_repl_offset') };
      } finally {
        c.disconnect();
      }
    };
    await until('every replica to apply what its primary sent', async () => {
      const all = await Promise.all([...primaries, ...replicas].map(offsets));
      const primaryOffset = new Map(all.filter((n) => primaries.includes(n.port)).map((n) => [n.port, n.primaryOffset]));
      return all.filter((n) => replicas.includes(n.port)).every((n) => n.applied >= (primaryOffset.get(n.master) ?? Infinity));
    }, 10_000);
  }

  test('a run of every read route writes nothing on any node', async () => {
    await readPass();
    await replicasCaughtUp();
    const grew = await dataCommandsOn([...primaries, ...replicas], readPass);
    for (const [port, counts] of Object.entries(grew)) expect(`${port}: ${await writeCommands(Number(port), Object.keys(counts))}`).toBe(`${port}: `);
    // Stats visit each shard with a few commands, not one per slot.
    expect(Object.values(grew).reduce((a, c) => a + (c.hgetall ?? 0), 0)).toBeLessThanOrEqual(16 * 2);
  });

  test('every read route answers from a replica: the primaries\' commandstats do not move', async () => {
    await setServiceEnv({ REDIS_READ_FROM: 'replica' });
    // The replica reader connects on first use, node by node; until then the primary answers (a stronger read).
    // Warm it with passes until a whole pass leaves the primaries alone (bounded in time).
    const deadline = Date.now() + 20_000;
    let onPrimaries: Record<string, number>;
    do {
      const grew = await dataCommandsOn(primaries, readPass);
      onPrimaries = Object.assign({}, ...Object.values(grew).map(withoutConnectionUpkeep));
    } while (Object.keys(onPrimaries).length && Date.now() < deadline);
    const grew = await dataCommandsOn([...primaries, ...replicas], async () => {
      await readPass();
      await new Promise((r) => setTimeout(r, 1100)); // past the shared stats answer: the stats read again
      await readPass();
    });
    for (const p of primaries) expect(withoutConnectionUpkeep(grew[p])).toEqual({});
    const onReplicas = replicas.map((p) => grew[p]);
    expect(onReplicas.reduce((a, c) => a + (c.get ?? 0), 0)).toBeGreaterThan(0);
    expect(onReplicas.reduce((a, c) => a + (c.evalsha_ro ?? 0) + (c.eval_ro ?? 0) + (c.evalsha ?? 0), 0)).toBeGreaterThan(0);
    // The stats read each shard's figures (INFO, DBSIZE) and the count hashes on replicas too.
    expect(onReplicas.reduce((a, c) => a + (c.info ?? 0), 0)).toBeGreaterThan(0);
    expect(onReplicas.reduce((a, c) => a + (c.hgetall ?? 0), 0)).toBeGreaterThan(0);
    for (const p of replicas) expect(await writeCommands(p, Object.keys(grew[p]))).toEqual([]);
    expect(services().replicaReader).toBeDefined();
  }, 60_000);
});

describe('standalone primary and replica (a non-cluster replication group) with REDIS_READ_FROM=replica', () => {
  let pair: ReplicatedRedisProcess;
  let admin: Redis;
  beforeAll(async () => {
    pair = await startPrimaryWithReplica();
    admin = new Redis(pair.primary.url);
    await setServiceEnv({ REDIS_URL: pair.primary.url, REDIS_CLUSTER_NODES: undefined, HIT_COUNTS: 'metrics' });
    await setUpReads(admin);
    await admin.wait(1, 2000);
    await setServiceEnv({ REDIS_READ_FROM: 'replica', REDIS_READER_URL: pair.replica.url });
  }, 60_000);
  afterAll(async () => {
    admin?.disconnect();
    await restoreServiceEnv();
    await pair?.stop();
  });

  test('every read route answers from the replica: the primary\'s commandstats do not move', async () => {
    const deadline = Date.now() + 10_000;
    while (services().replicaReader?.status !== 'ready' && Date.now() < deadline) await readPass();
    await readPass();
    const grew = await dataCommandsOn([pair.primary.port, pair.replica.port], readPass);
    expect(withoutConnectionUpkeep(grew[pair.primary.port])).toEqual({});
    expect(grew[pair.replica.port].get).toBeGreaterThan(0);
  });
});
