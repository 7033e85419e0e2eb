import { Cluster } from 'ioredis';
import Redis from 'ioredis';
import { startPrimaryWithReplica, startRedisCluster, type RedisClusterProcess } from '../lambdas/local/redis-cluster';

describe('test harness: real Redis topologies from redis-server binaries', () => {
  let cluster: RedisClusterProcess;
  afterAll(async () => cluster?.stop());

  test('a 3-primary/3-replica cluster comes up with every slot served', async () => {
    cluster = await startRedisCluster();
    const client = new Cluster(cluster.seedList.split(',').map((hp) => ({ host: '127.0.0.1', port: Number(hp.split(':')[1]) })));
    try {
      await client.set('a', '1');
      await client.set('b', '2');
      expect(await client.get('a')).toBe('1');
      expect(client.nodes('master')).toHaveLength(3);
      const topology = String(await client.cluster('NODES'));
      expect(topology.split('\n').filter((l) => l.includes(' slave ')).length).toBe(3);
      const info = await client.cluster('INFO');
      expect(String(info)).toContain('cluster_slots_assigned:16384');
    } finally {
      client.disconnect();
    }
  });

  test('a primary with a replica replicates writes', async () => {
    const pair = await startPrimaryWithReplica();
    const primary = new Redis(pair.primary.url);
    const replica = new Redis(pair.replica.url);
    try {
      await primary.set('x', 'y');
      await primary.wait(1, 1000);
      expect(await replica.get('x')).toBe('y');
    } finally {
      primary.disconnect();
      replica.disconnect();
      await pair.stop();
    }
  });
});
