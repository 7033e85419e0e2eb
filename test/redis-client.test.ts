import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import {
  clusterOptions,
  createRedisClient,
  createReplicaReader,
  credentialsFromSecret,
  defineScript,
  forEachPrimary,
  forgetCachedCredentials,
  isCluster,
  reconnectOnReadOnly,
  redisOptions,
  SecretsManagerSource,
  translateRedisError,
  withSecretCredentials,
} from '../lambdas/core/redis';
import { connectionSettingsFromEnv, parseClusterNodes } from '../lambdas/core/config';
import { startRedisProcess, type RedisProcess } from '../lambdas/local/redis-process';
import Redis from 'ioredis';

describe('connection settings from the environment', () => {
  test('standalone, cluster, TLS, RBAC and read preference', () => {
    const s = connectionSettingsFromEnv(
      {
        REDIS_CLUSTER_NODES: 'clustercfg.x.cache.amazonaws.com:6379, 10.0.0.2:7000',
        REDIS_TLS: 'true',
        REDIS_USERNAME: 'app',
        REDIS_PASSWORD: 'pw',
        REDIS_READ_FROM: 'replica',
      },
      800,
    );
    expect(s).toMatchObject({
      clusterNodes: [
        { host: 'clustercfg.x.cache.amazonaws.com', port: 6379 },
        { host: '10.0.0.2', port: 7000 },
      ],
      tls: true,
      username: 'app',
      password: 'pw',
      readFrom: 'replica',
      timeoutMs: 800,
    });
    expect(connectionSettingsFromEnv({ REDIS_URL: 'redis://h:1' }, 1000).readFrom).toBe('primary');
  });

  test('bad values are refused with a message naming the variable', () => {
    expect(() => parseClusterNodes('a:notaport')).toThrow(/REDIS_CLUSTER_NODES/);
    expect(() => connectionSettingsFromEnv({ REDIS_READ_FROM: 'nearest' }, 1000)).toThrow(/REDIS_READ_FROM/);
    expect(() => connectionSettingsFromEnv({ REDIS_URL: 'redis://h:1', REDIS_READ_FROM: 'replica' }, 1000)).toThrow(
      /REDIS_READER_URL/,
    );
  });

  test('client options: timeouts below the request budget, bounded retries, READONLY reconnects', () => {
    const o = redisOptions({ url: 'rediss://primary.x.cache.amazonaws.com:6379', timeoutMs: 1000 });
    expect(o).toMatchObject({ connectTimeout: 1000, maxRetriesPerRequest: 1, tls: {} });
    // No per-command timer: each request's deadline bounds its commands (core/deadline.ts).
    expect(o.commandTimeout).toBeUndefined();
    expect(reconnectOnReadOnly(new Error("READONLY You can't write against a read only replica."))).toBe(2);
    expect(reconnectOnReadOnly(new Error('ERR other'))).toBe(false);
  });

  test('ElastiCache cluster mode with TLS: TLS on every node and dnsLookup that keeps the host name', () => {
    const o = clusterOptions({ clusterNodes: [{ host: 'cfg', port: 6379 }], tls: true, timeoutMs: 1000 });
    expect(o.redisOptions).toMatchObject({ tls: {} });
    const resolved: string[] = [];
    o.dnsLookup!('clustercfg.x.cache.amazonaws.com', (_err, address) => resolved.push(address));
    expect(resolved).toEqual(['clustercfg.x.cache.amazonaws.com']);
    expect(clusterOptions({ clusterNodes: [], timeoutMs: 1000 }, 'slave').scaleReads).toBe('slave');
  });

  test('the factory makes a cluster client for REDIS_CLUSTER_NODES and a replica reader only when asked', () => {
    const settings = { clusterNodes: [{ host: '127.0.0.1', port: 1 }], timeoutMs: 100, readFrom: 'replica' as const };
    const primary = createRedisClient({ ...settings });
    const reader = createReplicaReader(settings)!;
    try {
      expect(isCluster(primary)).toBe(true);
      expect(isCluster(reader) && reader.options.scaleReads).toBe('slave');
      expect(createReplicaReader({ ...settings, readFrom: 'primary' })).toBeUndefined();
    } finally {
      primary.disconnect();
      reader.disconnect();
    }
  });
});

describe('RBAC credentials from Secrets Manager', () => {
  // The control plane cannot be reached from here (no AWS account, no internet): the SDK client is mocked.
  const secrets = mockClient(SecretsManagerClient);
  beforeEach(() => {
    secrets.reset();
    forgetCachedCredentials();
  });

  test('fetched once per process and used as password (and username when present)', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'svc', password: 's3cret' }) });
    const source = new SecretsManagerSource(new SecretsManagerClient({ region: 'eu-west-1' }));
    const base = { url: 'rediss://h:6379', timeoutMs: 1000, authSecretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:redis' };
    const a = await withSecretCredentials(base, source);
    const b = await withSecretCredentials(base, source);
    expect(a).toMatchObject({ username: 'svc', password: 's3cret' });
    expect(b.password).toBe('s3cret');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(secrets.commandCalls(GetSecretValueCommand)[0].args[0].input).toEqual({ SecretId: base.authSecretArn });
  });

  test('a malformed secret is refused without echoing it; a failed fetch is retried next time', async () => {
    const source = new SecretsManagerSource(new SecretsManagerClient({ region: 'eu-west-1' }));
    secrets.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'hunter2' });
    const error = await credentialsFromSecret('arn:s', source).catch((e: Error) => e);
    expect(String(error)).toMatch(/not JSON/);
    expect(String(error)).not.toContain('hunter2');
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"password":"ok"}' });
    await expect(credentialsFromSecret('arn:s', source)).resolves.toEqual({ password: 'ok' });
  });
});

describe('Redis errors as the client sees them', () => {
  test.each([
    ['OOM command not allowed when used memory > maxmemory.', 'OUT_OF_MEMORY'],
    ["READONLY You can't write against a read only replica.", 'UNAVAILABLE'],
    ['CLUSTERDOWN The cluster is down', 'UNAVAILABLE'],
    ['MOVED 3999 127.0.0.1:7001', 'UNAVAILABLE'],
    ['TRYAGAIN Multiple keys request during rehashing of slot', 'UNAVAILABLE'],
    ['Command timed out', 'UNAVAILABLE'],
    ['All keys in the pipeline should belong to the same slots allocation group', 'UNAVAILABLE'],
    ['ERR something unexpected', 'INTERNAL'],
  ])('%s → %s', (message, code) => {
    expect(translateRedisError(new Error(message)).code).toBe(code);
  });
});

describe('keyspace-wide work in cluster mode (forEachPrimary)', () => {
  // A stand-in with the parts of ioredis's Cluster that forEachPrimary reads: the slot table and the primaries.
  const node = (port: number) => ({ options: { host: '10.0.0.1', port } });
  function fakeCluster(owners: number[]) {
    const nodes = [...new Set(owners)].map(node);
    const slots = Array.from({ length: 16384 }, (_, s) => [`10.0.0.1:${owners[Math.floor((s * owners.length) / 16384)]}`]);
    return { isCluster: true, status: 'ready', slots, nodes: () => nodes } as unknown as Parameters<typeof forEachPrimary>[0];
  }

  test('visits every primary when they own every slot', async () => {
    const visited: number[] = [];
    await forEachPrimary(fakeCluster([1, 2, 3]), async (n) => void visited.push(Number(n.options.port)));
    expect(visited.sort()).toEqual([1, 2, 3]);
  });

  test('a shard whose primary dropped out of the pool is a 503 before any work', async () => {
    const cluster = fakeCluster([1, 2, 3]);
    const alive = (cluster as unknown as { nodes: () => unknown[] }).nodes().slice(0, 2);
    (cluster as unknown as { nodes: () => unknown[] }).nodes = () => alive;
    const work = jest.fn(async () => 0);
    await expect(forEachPrimary(cluster, work)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(work).not.toHaveBeenCalled();
  });

  test('a promotion while the work runs (slots move to a node not visited) is a 503, not a partial answer', async () => {
    const cluster = fakeCluster([1, 2, 3]);
    const slots = (cluster as unknown as { slots: string[][] }).slots;
    await expect(
      forEachPrimary(cluster, async () => {
        slots[0] = ['10.0.0.1:4'];
        return 1;
      }),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('1 hash slots') });
  });
});

describe('scripts as client commands (defineScript)', () => {
  let server: RedisProcess;
  beforeAll(async () => {
    server = await startRedisProcess();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const echoScript = { numberOfKeys: 1, lua: "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[1])" };

  test('a pipeline carries no copy of the scripts, yet runs them, auto-pipelined or explicit', async () => {
    const client = new Redis(server.url, { enableAutoPipelining: true });
    try {
      defineScript(client, 'skycacheTestEcho', echoScript);
      const pipeline = client.pipeline();
      // ioredis's Pipeline constructor copies whatever is in scriptsSet onto each pipeline: nothing here.
      expect(Object.keys(client.scriptsSet)).toEqual([]);
      expect(Object.prototype.hasOwnProperty.call(pipeline, 'skycacheTestEcho')).toBe(false);
      const echo = (c: unknown, key: string, value: string) =>
        (c as Record<string, (k: string, v: string) => Promise<unknown>>).skycacheTestEcho(key, value);
      // Auto-pipelined: commands of one tick share a pipeline.
      await expect(Promise.all([echo(client, 'a', '1'), echo(client, 'b', '2'), client.get('a')])).resolves.toEqual(['1', '2', '1']);
      echo(pipeline, 'c', '3');
      pipeline.get('c');
      await expect(pipeline.exec()).resolves.toEqual([[null, '3'], [null, '3']]);
      // After a SCRIPT FLUSH the command still answers (EVALSHA's NOSCRIPT falls back to EVAL).
      await client.script('FLUSH');
      await expect(echo(client, 'd', '4')).resolves.toBe('4');
    } finally {
      client.disconnect();
    }
  });

  test('a script may not take the name of a Redis command', () => {
    const client = new Redis(server.url, { lazyConnect: true });
    try {
      expect(() => defineScript(client, 'get', echoScript)).toThrow(/shadows an ioredis command/);
    } finally {
      client.disconnect();
    }
  });
});
