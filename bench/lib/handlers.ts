import { build } from 'esbuild';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { handlerBuildOptions, handlerBundling } from '../../lib/bundling';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { resetRuntimeConfig } from '../../lambdas/core/config';
import { closeServices, resetServices } from '../../lambdas/services';
import type { RedisClient } from '../../lambdas/core/redis';
import { routes } from '../../lambdas/routes';
import { proxyEvent, type SampleRequest } from './events';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** The handler a route's module exports, as the local server loads it. */
export function loadHandler(module: string): ProxyHandler {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(`../../lambdas/handlers/${module}`).handler as ProxyHandler;
}

/** Points the handlers' process-wide services at `redisUrl` (optionally with a client the bench made). */
export function useRedisForHandlers(redisUrl: string, client?: RedisClient): void {
  process.env.REDIS_URL = redisUrl;
  resetRuntimeConfig();
  resetServices(client);
}

export { closeServices };

/** Calls a route's handler in process with a sample request; throws unless it answers 2xx (for set-up steps). */
export function callRoute(ctx: Context): (routeId: string, request: SampleRequest) => Promise<APIGatewayProxyResult> {
  return async (routeId, request) => {
    const route = routes.find((r) => r.id === routeId);
    if (!route) throw new Error(`no route ${routeId}`);
    const result = await loadHandler(route.handler)(proxyEvent(route, request), ctx);
    if (result.statusCode >= 300) throw new Error(`set-up ${routeId} answered ${result.statusCode}: ${result.body}`);
    return result;
  };
}

/**
 * A handler module bundled as it deploys (lib/bundling.ts: minified ESM, the same aliases) into `dir` and imported
 * into this process. The bundle carries its own ioredis, services and runtime config, built from process.env at its
 * first request, as in a Lambda instance; `instance` names a separate copy (a second import of one file is the same
 * module), e.g. one whose first request ran with other settings.
 */
export async function loadDeployedHandler(module: string, dir: string, instance = ''): Promise<ProxyHandler> {
  const outfile = join(dir, `${module}${instance ? `-${instance}` : ''}${handlerBundling.outExtension}`);
  await build(handlerBuildOptions(resolve(__dirname, '../../lambdas/handlers', `${module}.ts`), outfile));
  const loaded = (await import(pathToFileURL(outfile).href)) as { handler: ProxyHandler };
  return loaded.handler;
}

/** Runs `work` with `vars` set in process.env, then puts the previous values back. */
export async function withEnv<T>(vars: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await work();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
