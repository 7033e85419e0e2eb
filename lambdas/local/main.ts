/**
 * `npm start`: the cache API on this machine, served by the same handlers as in Lambda.
 * PORT (default 3000); REDIS_URL or REDIS_CLUSTER_NODES to use an existing Redis; without them a private
 * redis-server is started on a free port (LOCAL_MAXMEMORY, LOCAL_MAXMEMORY_POLICY) and stopped on exit.
 */
import { startRedisProcess, type RedisProcess } from './redis-process';
import { ENV, localServerSettingsFromEnv } from '../core/config';
import { closeServices } from '../services';
import { startLocalServer } from './server';

async function main(): Promise<void> {
  const settings = localServerSettingsFromEnv();
  let redisProcess: RedisProcess | undefined;
  if (!settings.redisGiven) {
    redisProcess = await startRedisProcess({ maxmemory: settings.maxmemory, maxmemoryPolicy: settings.maxmemoryPolicy });
    process.env[ENV.redisUrl] = redisProcess.url;
    console.log(`skycache: started a private redis-server at ${redisProcess.url}`);
  }
  const server = await startLocalServer({ port: settings.port, host: settings.host });
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
