import Redis from 'ioredis';
import { startRedisProcess, type RedisProcess, type RedisProcessOptions } from '../../lambdas/local/redis-process';
import { resetRuntimeConfig } from '../../lambdas/core/config';
import { closeServices, resetServices } from '../../lambdas/services';

export interface TestRedis {
  server: RedisProcess;
  /** A plain client for assertions and set-up, separate from the one the handlers use. */
  client: Redis;
}

/**
 * Starts a private redis-server for the calling test file (beforeAll) and stops it afterwards (afterAll).
 * Points the handlers' process-wide services at it via REDIS_URL. Never touches the shared Redis on 6379.
 */
export function useRedisServer(options: RedisProcessOptions = {}, env: Record<string, string> = {}): TestRedis {
  const ctx = {} as TestRedis;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    ctx.server = await startRedisProcess(options);
    ctx.client = new Redis(ctx.server.url);
    for (const [k, v] of Object.entries({ ...env, REDIS_URL: ctx.server.url })) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    resetRuntimeConfig();
    resetServices();
  });
  afterAll(async () => {
    await closeServices();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    resetRuntimeConfig();
    ctx.client?.disconnect();
    await ctx.server?.stop();
  });
  return ctx;
}
