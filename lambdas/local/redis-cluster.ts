import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { startRedisProcess, type RedisProcess, type RedisProcessOptions } from './redis-process';

const run = promisify(execFile);

export interface RedisClusterProcess {
  nodes: RedisProcess[];
  /** `host:port,…` as REDIS_CLUSTER_NODES takes it. */
  seedList: string;
  stop(): Promise<void>;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * A real Redis Cluster from `redis-server` binaries on free loopback ports: `primaries` primaries with
 * `replicasPerPrimary` replicas each (default 3 × 1), slots spread by `redis-cli --cluster create`.
 */
export async function startRedisCluster(
  options: { primaries?: number; replicasPerPrimary?: number } & Omit<RedisProcessOptions, 'port'> = {},
): Promise<RedisClusterProcess> {
  const primaries = options.primaries ?? 3;
  const replicas = options.replicasPerPrimary ?? 1;
  const count = primaries * (1 + replicas);
  const nodes: RedisProcess[] = [];
  try {
    for (let i = 0; i < count; i++) {
      nodes.push(
        await startRedisProcess({
          ...options,
          clusterBus: true,
          args: [
            '--cluster-enabled', 'yes',
            '--cluster-config-file', 'nodes.conf',
            '--cluster-node-timeout', '2000',
            ...(options.args ?? []),
          ],
        }),
      );
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes']);
    await until(
      'every node to report cluster_state:ok with all replicas linked',
      async () => {
        for (const n of nodes) {
          const c = new Redis(n.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
          try {
            await c.connect();
            const info = await c.cluster('INFO');
            if (!String(info).includes('cluster_state:ok')) return false;
            const role = await c.role();
            if (role[0] === 'slave' && role[3] !== 'connected') return false;
          } finally {
            c.disconnect();
          }
        }
        return true;
      },
      30_000,
    );
  } catch (e) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw e;
  }
  return {
    nodes,
    seedList: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}

export interface ReplicatedRedisProcess {
  primary: RedisProcess;
  replica: RedisProcess;
  stop(): Promise<void>;
}

/** A primary with one replica (the shape of a non-cluster ElastiCache replication group). */
export async function startPrimaryWithReplica(options: Omit<RedisProcessOptions, 'port'> = {}): Promise<ReplicatedRedisProcess> {
  const primary = await startRedisProcess(options);
  let replica: RedisProcess;
  try {
    replica = await startRedisProcess({ ...options, args: ['--replicaof', '127.0.0.1', String(primary.port), ...(options.args ?? [])] });
  } catch (e) {
    await primary.stop();
    throw e;
  }
  await until(
    'the replica to link to its primary',
    async () => {
      const c = new Redis(replica.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        await c.connect();
        const role = await c.role();
        return role[0] === 'slave' && role[3] === 'connected';
      } finally {
        c.disconnect();
      }
    },
    15_000,
  );
  return { primary, replica, stop: async () => void (await Promise.all([primary.stop(), replica.stop()])) };
}
