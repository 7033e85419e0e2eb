/**
 * `npm start`: the cache API on this machine, served by the production server (lambdas/server/: a primary and one
 * worker per CPU) with the same route code as in Lambda. PORT (default 3000), HOST (default 127.0.0.1) and the
 * server's other settings (lambdas/server/settings.ts: WORKERS, SHUTDOWN_GRACE_MS, API keys, …); REDIS_URL or
 * REDIS_CLUSTER_NODES to use an existing Redis; without them a private redis-server is started on a free port
 * (LOCAL_MAXMEMORY, LOCAL_MAXMEMORY_POLICY) and stopped on exit.
 */
import { resolve } from 'node:path';
import { ENV, localServerSettingsFromEnv } from '../core/config';
import { runPrimary } from '../server/service';
import { startRedisProcess, type RedisProcess } from './redis-process';

const log = (line: string) => console.log(`skycache: ${line}`);

async function main(): Promise<void> {
  const settings = localServerSettingsFromEnv();
  // The server's own defaults are the container's (8080 on every interface); locally, 3000 on loopback.
  process.env[ENV.localPort] = String(settings.port);
  process.env[ENV.localHost] = settings.host;
  let redisProcess: RedisProcess | undefined;
  // Whatever ends the process through Node (exit, a fatal error) takes the private redis-server with it; a SIGKILL
  // is covered by redis-server's parent-death signal (redis-process.ts).
  process.on('exit', () => redisProcess?.process.kill('SIGKILL'));
  if (!settings.redisGiven) {
    redisProcess = await startRedisProcess({ maxmemory: settings.maxmemory, maxmemoryPolicy: settings.maxmemoryPolicy });
    process.env[ENV.redisUrl] = redisProcess.url;
    log(`started a private redis-server at ${redisProcess.url} (pid ${redisProcess.process.pid})`);
  }
  await runPrimary({
    log,
    workerEntry: resolve(__dirname, '../server/main.ts'),
    afterStop: async () => redisProcess?.stop(),
    // Under `npm start` the service lives as long as npm does, even when npm is killed too hard to tell it.
    stopWhenOrphaned: !!process.env.npm_lifecycle_event,
  });
}

main().catch((e: Error) => {
  console.error(`skycache: failed to start: ${e.message}`);
  process.exit(1);
});
