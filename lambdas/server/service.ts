import { runtimeConfig } from '../shared/config';
import { startLocalServer } from '../local/server';
import type { RouteDispatcher } from './app';
import { SHUTDOWN_MESSAGE, startPrimary, type PrimaryOptions } from './primary';
import { loadServerSettings } from './settings';
import { startWorker } from './worker';

export type LogLine = (line: string) => void;

export interface ServiceOptions extends Omit<PrimaryOptions, 'settings'> {
  /** Runs after every worker has exited (e.g. stops the private redis-server of `npm start`). */
  afterStop?: () => Promise<void>;
}

/**
 * The primary process of the service: validates every setting before forking (a bad value stops the service at
 * once instead of crash-looping its workers), forks the workers, prints the URL, and on SIGTERM/SIGINT drains
 * the workers and exits 0.
 */
export async function runPrimary(o: ServiceOptions): Promise<void> {
  const settings = loadServerSettings();
  runtimeConfig();
  const primary = startPrimary({ ...o, settings });
  const url = await primary.listening;
  o.log(`listening on ${url} with ${settings.workers} worker(s) (primary pid ${process.pid})`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    o.log(`${signal} received, shutting down`);
    primary
      .stop()
      .then(() => o.afterStop?.())
      .then(
        () => process.exit(0),
        (e: Error) => {
          o.log(`shutdown failed: ${e.message}`);
          process.exit(1);
        },
      );
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => shutdown(signal));
}

/** A worker process: serves until the primary tells it to stop (or it gets SIGTERM itself), then exits 0. */
export async function runWorker(log: LogLine): Promise<void> {
  const settings = loadServerSettings();
  // Until the route code is served directly: the local server's listener answers the API routes.
  let local: ReturnType<typeof startLocalServer> | undefined;
  const dispatch: RouteDispatcher = async (req, res) => {
    const { server } = await (local ??= startLocalServer({ port: 0 }));
    return new Promise((resolve) => {
      res.once('close', () => resolve({ bytes: 0 }));
      server.emit('request', req, res);
    });
  };
  const worker = await startWorker({ settings, dispatch, log: (line) => log(`worker ${process.pid}: ${line}`) });
  const stop = () => void worker.stop().then(() => process.exit(0));
  process.on('message', (m) => {
    if (m === SHUTDOWN_MESSAGE) stop();
  });
  process.on('SIGTERM', stop);
  // Ctrl-C reaches the whole process group: the primary coordinates the shutdown.
  process.on('SIGINT', () => undefined);
}
