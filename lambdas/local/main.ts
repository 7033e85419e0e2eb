/**
 * `npm start`: the cache API on this machine, served by the same handlers as in Lambda.
 * PORT (default 3000); REDIS_URL or REDIS_CLUSTER_NODES to use an existing Redis; without them a private
 * redis-server is started on a free port (LOCAL_MAXMEMORY, LOCAL_MAXMEMORY_POLICY) and stopped on exit.
 * SHUTDOWN_GRACE_MS (default 10000): how long requests in flight may run on after SIGTERM/SIGINT.
 */
import { closeGracefully, stopOnSignals, stopWhenOrphaned, survivesRequestErrors } from './lifecycle';
import { startRedisProcess, type RedisProcess } from './redis-process';
import { ENV, localServerSettingsFromEnv } from '../core/config';
import { closeServices } from '../services';
import { startLocalServer } from './server';

const log = (line: string) => console.log(`skycache: ${line}`);

async function main(): Promise<void> {
  survivesRequestErrors((line) => console.error(`skycache: ${line}`));
  const settings = localServerSettingsFromEnv();
  let redisProcess: RedisProcess | undefined;
  // Whatever ends the process through Node (exit, a fatal error) takes the private redis-server with it; a SIGKILL
  // is covered by redis-server's parent-death signal (redis-process.ts).
  process.on('exit', () => redisProcess?.process.kill('SIGKILL'));
  if (!settings.redisGiven) {
    redisProcess = await startRedisProcess({ maxmemory: settings.maxmemory, maxmemoryPolicy: settings.maxmemoryPolicy });
    process.env[ENV.redisUrl] = redisProcess.url;
    log(`started a private redis-server at ${redisProcess.url} (pid ${redisProcess.process.pid})`);
  }
  const server = await startLocalServer({ port: settings.port, host: settings.host });
  log(`listening on ${server.url} (pid ${process.pid})`);

  const graceMs = settings.shutdownGraceMs;
  const shutdown = stopOnSignals({
    log,
    // Draining, then closing the Redis clients and the private redis-server, each bounded.
    timeoutMs: graceMs + 5_000,
    stop: async () => {
      await closeGracefully(server.server, graceMs);
      await closeServices();
      await redisProcess?.stop();
    },
  });
  // Under `npm start` the service lives as long as npm does, even when npm is killed too hard to tell it.
  if (process.env.npm_lifecycle_event) stopWhenOrphaned(() => shutdown('parent process exited'));
}

main().catch((e: Error) => {
  console.error(`skycache: failed to start: ${e.message}`);
  process.exit(1);
});
