import { runtimeConfig } from '../core/config';
import { stopOnSignals, stopWhenOrphaned, survivesRequestErrors, type LogLine } from '../local/lifecycle';
import { createDispatcher } from './dispatch';
import { startPrimary, WORKER_EXIT_MARGIN_MS, type PrimaryOptions } from './primary';
import { loadServerSettings } from './settings';
import { startWorker, type RunningWorker } from './worker';

export interface ServiceOptions extends Omit<PrimaryOptions, 'settings'> {
  /** Runs after every worker has exited (e.g. stops the private redis-server of `npm start`). */
  afterStop?: () => Promise<void>;
  /** Stop when the process that started this one is gone (`npm start` killed with SIGKILL). */
  stopWhenOrphaned?: boolean;
}

/**
 * The primary process of the service: validates every setting before forking (a bad value stops the service at
 * once instead of crash-looping its workers), forks the workers, prints the URL, and on SIGTERM/SIGINT drains
 * the workers and exits 0 (lambdas/local/lifecycle.ts).
 */
export async function runPrimary(o: ServiceOptions): Promise<void> {
  survivesRequestErrors((line) => console.error(`skycache: ${line}`));
  const settings = loadServerSettings();
  runtimeConfig();
  const primary = startPrimary({ ...o, settings });
  const shutdown = stopOnSignals({
    log: o.log,
    // The workers' drain and exit (each bounded), then what the caller releases.
    timeoutMs: settings.shutdownGraceMs + 2 * WORKER_EXIT_MARGIN_MS,
    stop: async () => {
      await primary.stop();
      await o.afterStop?.();
    },
  });
  if (o.stopWhenOrphaned) stopWhenOrphaned(() => shutdown('parent process exited'));
  const url = await primary.listening;
  o.log(`listening on ${url} (pid ${process.pid}) with ${settings.workers} worker(s)`);
}

/** A worker process: serves until the primary tells it to stop (or it gets SIGTERM itself), then exits 0. */
export async function runWorker(log: LogLine): Promise<void> {
  survivesRequestErrors((line) => console.error(`skycache: worker ${process.pid}: ${line}`));
  const settings = loadServerSettings();
  const dispatch = createDispatcher();
  // The primary stops a worker with SIGTERM; one that arrives while the worker starts stops it once it listens.
  const state: { worker?: RunningWorker; stopRequested: boolean } = { stopRequested: false };
  const stop = () => {
    state.stopRequested = true;
    if (state.worker) void state.worker.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  // Ctrl-C reaches the whole process group: the primary coordinates the shutdown.
  process.on('SIGINT', () => undefined);
  state.worker = await startWorker({ settings, dispatch, log: (line) => log(`worker ${process.pid}: ${line}`) });
  if (state.stopRequested) stop();
}
