/**
 * `npm start`: the cache API on this machine, served by the same handlers as in Lambda.
 * PORT (default 3000); REDIS_URL or REDIS_CLUSTER_NODES to use an existing Redis; without them a private
 * redis-server is started on a free port (LOCAL_MAXMEMORY, LOCAL_MAXMEMORY_POLICY) and stopped on exit.
 */
import { startRedisProcess, type RedisProcess } from './redis-process';
import { closeServices } from '../services';
import { startLocalServer } from './server';

async function main(): Promise<void> {
  let redisProcess: RedisProcess | undefined;
  if (!process.env.REDIS_URL && !process.env.REDIS_CLUSTER_NODES) {
    redisProcess = await startRedisProcess({
      maxmemory: process.env.LOCAL_MAXMEMORY ?? '256mb',
      maxmemoryPolicy: process.env.LOCAL_MAXMEMORY_POLICY ?? 'allkeys-lru',
    });
    process.env.REDIS_URL = redisProcess.url;
    console.log(`skycache: started a private redis-server at ${redisProcess.url}`);
  }
  const port = Number(process.env.PORT ?? 3000);
  const server = await startLocalServer({ port, host: process.env.HOST ?? '127.0.0.1' });
  console.log(`skycache: listening on ${server.url}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`skycache: ${signal} received, shutting down`);
    await server.close();
    await closeServices();
    await redisProcess?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e: Error) => {
  console.error(`skycache: failed to start: ${e.message}`);
  process.exit(1);
});
