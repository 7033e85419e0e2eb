import Redis from 'ioredis';
import { entryKey, slotOf } from '../../lambdas/core/keyspace';
import { startRedisCluster, type RedisClusterProcess } from '../../lambdas/local/redis-cluster';
import { startLocalServer, type LocalServer } from '../../lambdas/local/server';
import { restoreServiceEnv, setServiceEnv } from '../support/env';
import { until } from '../support/load';

/**
 * Every data type goes through one store base (lambdas/domain/store.ts): after a shard fails over, the first
 * requests still find the old primary in the client's slot table, and an auto-pipeline that mixes that node's
 * slots gets a MOVED per slot. Each store retries once after refreshing the table, so every type recovers alike.
 */
let cluster: RedisClusterProcess;
let server: LocalServer;

beforeAll(async () => {
  cluster = await startRedisCluster();
  await setServiceEnv({ REDIS_URL: undefined, REDIS_CLUSTER_NODES: cluster.seedList, REDIS_TIMEOUT_MS: '2000' });
  server = await startLocalServer();
}, 60_000);
afterAll(async () => {
  await server?.close();
  await restoreServiceEnv();
  await cluster?.stop();
});

async function withNode<T>(port: number, work: (c: Redis) => Promise<T>): Promise<T> {
  const c = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, lazyConnect: true, connectTimeout: 1000 });
  try {
    await c.connect();
    return await work(c);
  } finally {
    c.disconnect();
  }
}

interface Shard {
  primary: number;
  replica: number;
  ranges: [number, number][];
}

/** A primary with its replica (once the replica has joined and synced), and the slot ranges the primary serves. */
async function shard(): Promise<Shard> {
  let found: Shard | undefined;
  await until('a shard with a synced replica', async () => {
    found = await withNode(cluster.nodes[0].port, async (c) => {
      const slots = await c.cluster('SLOTS');
      const [, , primary, replica] = slots[0];
      if (!replica) return undefined;
      const ranges = slots.filter(([, , p]) => p[2] === primary[2]).map(([from, to]) => [from, to] as [number, number]);
      return { primary: primary[1], replica: replica[1], ranges };
    });
    if (!found) return false;
    const link = await withNode(found.replica, async (c) => (await c.role()) as unknown[]);
    return link[3] === 'connected';
  }, 20_000, 100);
  return found!;
}

const TYPES = ['entries', 'lists', 'sets', 'hashes', 'sorted sets', 'counters'] as const;
type DataType = (typeof TYPES)[number];

/** One write of each type on `key` (each a single-key command bound for the key's shard). */
function write(type: DataType, key: string, i: number): [string, string, unknown] {
  switch (type) {
    case 'entries':
      return ['POST', '/cache', { key, value: i }];
    case 'lists':
      return ['POST', `/lists/${key}/push`, { values: [i] }];
    case 'sets':
      return ['POST', `/sets/${key}/add`, { members: [i] }];
    case 'hashes':
      return ['POST', `/hashes/${key}/set`, { fields: { [`f${i}`]: i } }];
    case 'sorted sets':
      return ['POST', `/zsets/${key}/add`, { members: [{ member: `m${i}`, score: i }] }];
    case 'counters':
      return ['POST', `/counters/${key}`, { by: 1 }];
  }
}

async function send([method, path, body]: [string, string, unknown]): Promise<number> {
  const res = await fetch(server.url + path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

/** Every type's writes to many slots of the shard at once; per type, the statuses that were not a success. */
async function burst(keys: Record<DataType, string[]>, round: number): Promise<Record<DataType, number[]>> {
  const results = await Promise.all(
    TYPES.map(async (type) => {
      const statuses = await Promise.all(keys[type].map((key) => send(write(type, key, round))));
      return [type, statuses.filter((s) => s >= 300)] as const;
    }),
  );
  return Object.fromEntries(results) as Record<DataType, number[]>;
}

const noFailures = Object.fromEntries(TYPES.map((t) => [t, []]));

test('after a shard fails over, entries, lists, sets, hashes, sorted sets and counters all recover the same way', async () => {
  const { primary, replica, ranges } = await shard();
  // Per type, keys in distinct slots of the shard that fails over.
  const keys = {} as Record<DataType, string[]>;
  for (const type of TYPES) {
    keys[type] = [];
    const slots = new Set<number>();
    for (let i = 0; keys[type].length < 16; i++) {
      const key = `${type.replace(' ', '-')}:${i}`;
      const slot = slotOf(entryKey(key));
      if (!slots.has(slot) && ranges.some(([from, to]) => slot >= from && slot <= to)) {
        slots.add(slot);
        keys[type].push(key);
      }
    }
  }
  // Set-up: the client learns the topology and the primary its scripts, one request at a time (a cold cluster
  // client may still answer 503 while it connects: retried here, within a bound, as this is not under test).
  for (const type of TYPES) {
    for (const key of keys[type]) {
      await until(`the first ${type} write`, async () => (await send(write(type, key, 0))) < 300, 20_000, 100);
    }
  }

  await withNode(replica, (c) => c.cluster('FAILOVER'));
  await until(
    'the replica to be promoted and the old primary to follow it',
    async () =>
      (await withNode(replica, async (c) => String((await c.role())[0]))) === 'master' &&
      (await withNode(primary, async (c) => String((await c.role())[0]))) === 'slave',
    20_000,
    20,
  );

  // The client's slot table still names the old primary: each type meets MOVED and must retry, not answer 503.
  expect(await burst(keys, 1)).toEqual(noFailures);
  expect(await burst(keys, 2)).toEqual(noFailures);

  // Every write of every round is there, on the promoted primary.
  await withNode(replica, async (c) => {
    expect(await c.get(entryKey(keys.entries[0]))).toMatch(/:2$/);
    // Round 0 may have been sent more than once (set-up retries): at least one write of each round is there.
    expect(await c.llen(entryKey(keys.lists[0]))).toBeGreaterThanOrEqual(3);
    expect(await c.scard(entryKey(keys.sets[0]))).toBe(3);
    expect(await c.hlen(entryKey(keys.hashes[0]))).toBe(3);
    expect(await c.zcard(entryKey(keys['sorted sets'][0]))).toBe(3);
    expect(Number((await c.get(entryKey(keys.counters[0])))?.split(':').pop())).toBeGreaterThanOrEqual(3);
  });
});

test('an auto-pipeline that ioredis refuses because a MOVED re-pointed part of its shard is sent again, never a 500', async () => {
  // Seen under load during a planned failover: ioredis updates only the slot a MOVED names, so an auto-pipeline
  // already queued for the shard (waiting behind one in flight) then holds keys of two "groups", and ioredis rejects
  // it before sending anything. Reproduced here by re-pointing one slot between queueing and sending, as that MOVED does.
  const { Cluster } = await import('ioredis');
  const { retryOnceOnMoved, translateRedisError } = await import('../../lambdas/core/redis');
  const client = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0].port }], { enableAutoPipelining: true });
  try {
    const { ranges } = await shard();
    const inShard = (slot: number) => ranges.some(([from, to]) => slot >= from && slot <= to);
    const keys: string[] = [];
    for (let i = 0; keys.length < 2; i++) {
      const key = `split:${i}`;
      if (inShard(slotOf(key)) && !keys.some((k) => slotOf(k) === slotOf(key))) keys.push(key);
    }
    await until('the client to be ready', async () => (await client.set(keys[0], 'a').catch(() => null)) === 'OK', 20_000, 100);
    await client.set(keys[1], 'b');
    const groups = (client as unknown as { _groupsBySlot: number[] })._groupsBySlot;
    const repointOneSlot = () => (groups[slotOf(keys[1])] = -1);

    const refused = Promise.allSettled([client.get(keys[0]), client.get(keys[1])]);
    repointOneSlot();
    const [first] = await refused;
    expect(first.status).toBe('rejected');
    const reason = (first as PromiseRejectedResult).reason as Error;
    expect(reason.message).toMatch(/same slots allocation group/);
    expect(translateRedisError(reason).code).toBe('UNAVAILABLE'); // at worst a 503 with Retry-After, never a 500

    await client.refreshSlotsCache();
    const retried = Promise.all(keys.map((key) => retryOnceOnMoved([client], () => client.get(key))));
    repointOneSlot();
    await expect(retried).resolves.toEqual(['a', 'b']);
  } finally {
    client.disconnect();
  }
});
