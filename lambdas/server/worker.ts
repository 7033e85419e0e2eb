import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { closeGracefully } from '../local/lifecycle';
import { runtimeConfig } from '../core/config';
import { logger } from '../core/logger';
import { closeServices, readyServices } from '../services';
import { AccessLog } from './access-log';
import { loadApiKeys } from './api-keys';
import { createApp, type KeyState, type RouteDispatcher } from './app';
import { createServiceServer, listen } from './http-server';
import { RequestMetrics } from './request-metrics';
import type { ServerSettings } from './settings';

const KEY_RETRY_MS = 5_000;

export interface WorkerOptions {
  settings: ServerSettings;
  dispatch: RouteDispatcher;
  log: (line: string) => void;
}

export interface RunningWorker {
  server: Server;
  /** Stops accepting, lets requests in flight finish within the grace, closes Redis. Runs once. */
  stop(): Promise<void>;
}

/**
 * One serving process: loads the API keys (and keeps them current), connects Redis ahead of the first request,
 * listens with the configured time-outs and answers through the app (health, in-flight bound, auth, routes).
 */
export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const { settings, log } = o;
  let keys: KeyState = settings.apiKeys.kind === 'none' ? undefined : 'loading';
  const refresh = async () => {
    try {
      keys = await loadApiKeys(settings.apiKeys);
    } catch (e) {
      // Fail closed: without the keys every API request is refused (503), never served unauthenticated.
      logger.error('could not load the API keys', e as Error);
      if (keys === 'loading') retry = setTimeout(() => void refresh(), KEY_RETRY_MS);
    }
  };
  let retry: NodeJS.Timeout | undefined;
  let refresher: NodeJS.Timeout | undefined;
  if (keys === 'loading') {
    await refresh();
    refresher = setInterval(() => void refresh(), settings.apiKeyRefreshMs);
    refresher.unref();
  }
  // Connect ahead of the first request; a Redis that is down now is reported by /readyz, not fatal.
  void readyServices().catch(() => undefined);

  const metrics = new RequestMetrics();
  metrics.start(settings.metricsIntervalMs);
  const app = createApp({
    dispatch: o.dispatch,
    keys: () => keys,
    maxInFlight: settings.maxInFlight,
    retryAfterSeconds: runtimeConfig().retryAfterSeconds,
    accessLog: new AccessLog(settings.accessLogSampleRate),
    metrics,
    workerId: cluster.worker?.id,
  });
  const server = createServiceServer(app, settings);
  await listen(server, settings.port, settings.host);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      clearTimeout(retry);
      clearInterval(refresher);
      await closeGracefully(server, settings.shutdownGraceMs);
      metrics.stop();
      await closeServices();
      log('worker stopped');
    })());
  return { server, stop };
}
