import type { APIGatewayProxyResult } from 'aws-lambda';
import Redis, { Cluster } from 'ioredis';
import { samples } from '../bench/samples';
import { lambdaContext, proxyEvent, type SampleRequest } from '../bench/lib/events';
import { callRoute, loadHandler } from '../bench/lib/handlers';
import { collectionScripts } from '../lambdas/domain/collection-scripts';
import { multiKeyScripts, scripts } from '../lambdas/domain/scripts';
import { startRedisCluster, type RedisClusterProcess } from '../lambdas/local/redis-cluster';
import { startRedisProcess, type RedisProcess } from '../lambdas/local/redis-process';
import { routes } from '../lambdas/routes';
import { APP_ACCESS_STRING, REDIS_COMMANDS } from '../lambdas/core/redis-commands';
import { restoreServiceEnv, setServiceEnv } from './support/env';

/**
 * The application user's ACL (APP_ACCESS_STRING, the rules lib/ puts in the template) against real redis-servers:
 * every route runs as a user with exactly those rules, standalone and in cluster mode with replica reads, and the
 * server's ACL log (which records every refused command, also inside scripts and in the client's handshake) stays
 * empty; what a stolen password could do harm with is refused.
 */
const USER = 'skycache-app';
const PASSWORD = 'acl-test-password-0123456789';
/** The access string as ACL SETUSER arguments, with the password ElastiCache sets through its API. */
const setUserArgs = ['SETUSER', USER, `>${PASSWORD}`, ...APP_ACCESS_STRING.split(' ')];

async function aclLog(node: Redis): Promise<string[]> {
  const entries = (await node.call('ACL', 'LOG')) as unknown[][];
  return entries.map((e) => {
    const f = Object.fromEntries(Array.from({ length: e.length / 2 }, (_, i) => [String(e[2 * i]), e[2 * i + 1]]));
    return `${String(f.username)} refused ${String(f.reason)} "${String(f.object)}" (${String(f.context)})`;
  });
}

/**
 * Invokes a route's handler in process. A 503 is a slow machine, not a refusal (NOPERM answers 500, and the ACL
 * log records it), so it is tried again, with its set-up, a few times.
 */
async function invoke(routeId: string, request: SampleRequest, setup?: () => Promise<unknown>): Promise<APIGatewayProxyResult> {
  const route = routes.find((r) => r.id === routeId)!;
  for (let attempt = 1; ; attempt++) {
    await setup?.();
    const result = await loadHandler(route.handler)(proxyEvent(route, request), lambdaContext('skycache-acl'));
    if (result.statusCode !== 503 || attempt === 5) return result;
  }
}

/** Runs every route's sample requests through its handler, in process; returns what did not answer as expected. */
async function runEveryRoute(admin: Redis | Cluster): Promise<string[]> {
  const call = callRoute(lambdaContext('skycache-acl'));
  const failures: string[] = [];
  for (const route of routes) {
    for (const sample of samples[route.id] ?? []) {
      const result = await invoke(route.id, sample.request, sample.setup && (() => sample.setup!(admin as Redis, call)));
      const ok = sample.expectStatus ? result.statusCode === sample.expectStatus : result.statusCode < 300;
      if (!ok) failures.push(`${route.id} ${sample.variant}: ${result.statusCode} ${result.body}`);
    }
  }
  // Paths no sample takes: a write that waits for its replicas (WAIT), a strong read.
  const replicated = await invoke('setEntry', { body: { key: 'acl:replicated', value: 1, durability: 'replicated' } });
  if (replicated.statusCode >= 300) failures.push(`setEntry replicated: ${replicated.statusCode} ${replicated.body}`);
  const strong = await invoke('getEntry', { pathParameters: { key: 'acl:replicated' }, query: { consistency: 'strong' } });
  if (strong.statusCode !== 200) failures.push(`getEntry strong: ${strong.statusCode} ${strong.body}`);
  return failures;
}

/** What must be refused to the application user: commands in @dangerous, @admin and the keyspace-wide wipes. */
const REFUSED: [string, ...string[]][] = [
  ['MIGRATE', '127.0.0.1', '1', 'k', '0', '1000'],
  ['RESTORE', 'k:restored', '0', 'payload'],
  ['DUMP', 'k:x'],
  ['FLUSHALL'],
  ['FLUSHDB'],
  ['KEYS', '*'],
  ['CONFIG', 'GET', 'maxmemory'],
  ['SHUTDOWN'],
  ['ACL', 'SETUSER', USER, '+@all'],
  ['CLIENT', 'KILL', 'TYPE', 'normal'],
  ['SCRIPT', 'FLUSH'],
  ['MONITOR'],
  ['DEL', 'k:x'],
  ['SUBSCRIBE', 'channel'],
];

async function expectRefused(app: Redis): Promise<void> {
  for (const [command, ...args] of REFUSED) {
    await expect(app.call(command, ...args)).rejects.toThrow(/NOPERM/);
  }
  // Inside a script too.
  await expect(app.eval("return redis.call('FLUSHALL')", 0)).rejects.toThrow(/can't run this command/);
}

describe('standalone: every route as the ACL user', () => {
  let redis: RedisProcess;
  let admin: Redis;

  beforeAll(async () => {
    redis = await startRedisProcess();
    admin = new Redis(redis.url);
    await admin.call('ACL', ...setUserArgs);
    await setServiceEnv({ REDIS_URL: redis.url, REDIS_USERNAME: USER, REDIS_PASSWORD: PASSWORD, REDIS_TIMEOUT_MS: '5000' });
  });
  afterAll(async () => {
    await restoreServiceEnv();
    admin?.disconnect();
    await redis?.stop();
  });

  test('every route answers as expected and the server refuses nothing', async () => {
    await admin.call('ACL', 'LOG', 'RESET');
    expect(await runEveryRoute(admin)).toEqual([]);
    expect(await aclLog(admin)).toEqual([]);
  });

  test('the user may not run dangerous or administrative commands', async () => {
    const app = new Redis({ port: redis.port, host: '127.0.0.1', username: USER, password: PASSWORD });
    try {
      await expectRefused(app);
    } finally {
      app.disconnect();
    }
  });
});

/**
 * The samples' set-up was written for one Redis: its pipelines mix slots, which a cluster pipeline refuses. This
 * client sends each pipelined command on its own instead (set-up only; the handlers use their own client).
 */
function clusterSetupClient(cluster: Cluster): Cluster {
  return new Proxy(cluster, {
    get(target, property, receiver) {
      if (property !== 'pipeline') return Reflect.get(target, property, receiver) as unknown;
      return () => {
        const queued: [string, unknown[]][] = [];
        const recorder: Record<string, unknown> = new Proxy(
          {},
          {
            get: (_t, name) =>
              name === 'exec'
                ? () =>
                    Promise.all(
                      queued.map(([command, args]) =>
                        target.call(command, ...(args as string[])).then((v) => [null, v], (e: unknown) => [e, null]),
                      ),
                    )
                : (...args: unknown[]) => {
                    queued.push([String(name), args]);
                    return recorder;
                  },
          },
        );
        return recorder;
      };
    },
  });
}

describe('cluster with replica reads: every route as the ACL user', () => {
  let cluster: RedisClusterProcess;
  let admin: Cluster;
  let nodes: Redis[];

  beforeAll(async () => {
    cluster = await startRedisCluster();
    nodes = cluster.nodes.map((n) => new Redis(n.port, '127.0.0.1'));
    // ACLs are per node (ElastiCache applies the user group to every node).
    for (const node of nodes) await node.call('ACL', ...setUserArgs);
    admin = new Redis.Cluster(cluster.seedList.split(',').map((hp) => ({ host: '127.0.0.1', port: Number(hp.split(':')[1]) })));
    await setServiceEnv({
      REDIS_URL: undefined,
      REDIS_CLUSTER_NODES: cluster.seedList,
      REDIS_READ_FROM: 'replica',
      REDIS_USERNAME: USER,
      REDIS_PASSWORD: PASSWORD,
      REDIS_TIMEOUT_MS: '5000',
    });
  }, 120_000);
  afterAll(async () => {
    await restoreServiceEnv();
    admin?.disconnect();
    for (const node of nodes ?? []) node.disconnect();
    await cluster?.stop();
  });

  test('every route answers as expected and no node refuses anything', async () => {
    for (const node of nodes) await node.call('ACL', 'LOG', 'RESET');
    expect(await runEveryRoute(clusterSetupClient(admin))).toEqual([]);
    const refused = (await Promise.all(nodes.map(aclLog))).flat();
    expect(refused).toEqual([]);
  }, 120_000);
});

test('every route has a sample request, so the runs above cover the whole route table', () => {
  expect(routes.filter((r) => !samples[r.id]?.length).map((r) => r.id)).toEqual([]);
});

test('every command a Lua script names is allowed', () => {
  // Quoted command names in the scripts (redis.call('GET', …), 'LPOP' or 'RPOP', {'ZADD', …}), checked against
  // the commands ioredis knows, so option words such as 'PX' or 'WITHSCORES' are not taken for commands.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const known = new Set(Object.keys(require('@ioredis/commands/built/commands.json') as Record<string, unknown>));
  const lua = [scripts, multiKeyScripts, collectionScripts].flatMap((t) => Object.values(t).map((s) => s.lua)).join('\n');
  const named = new Set([...lua.matchAll(/'([A-Z]+)'/g)].map((m) => m[1].toLowerCase()).filter((c) => known.has(c)));
  expect(named.size).toBeGreaterThan(20);
  const allowed = new Set<string>(REDIS_COMMANDS.insideScripts);
  expect([...named].filter((c) => !allowed.has(c))).toEqual([]);
});
