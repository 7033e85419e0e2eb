/**
 * `npm run cluster`: a local 3-primary/3-replica Redis Cluster from redis-server binaries, for pointing `npm start`
 * at (REDIS_CLUSTER_NODES=… npm start). Prints the seed list and each node's role; stops everything on SIGINT/SIGTERM.
 */
import { startRedisCluster } from './redis-cluster';

async function main(): Promise<void> {
  const cluster = await startRedisCluster();
  console.log(`REDIS_CLUSTER_NODES=${cluster.seedList}`);
  for (const n of cluster.nodes) console.log(`node 127.0.0.1:${n.port} pid ${n.process.pid}`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await cluster.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((e: Error) => {
  console.error(`cluster: failed to start: ${e.message}`);
  process.exit(1);
});
