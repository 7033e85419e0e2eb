import cluster, { type Worker } from 'node:cluster';
import type { ServerSettings } from './settings';

/** A worker that lived this long before dying is taken for a one-off crash: it is replaced at once. */
const STABLE_AFTER_MS = 30_000;
const MAX_RESTART_DELAY_MS = 10_000;
/** Time, beyond the drain grace, a worker has to close Redis and exit before it is killed. */
export const WORKER_EXIT_MARGIN_MS = 5_000;

export interface PrimaryOptions {
  settings: ServerSettings;
  log: (line: string) => void;
  /** The module each worker runs (default: the primary's own entry, as node:cluster does). */
  workerEntry?: string;
  /** Extra environment of every worker (e.g. the private redis-server's URL). */
  workerEnv?: Record<string, string>;
}

export interface Primary {
  /** Resolves with the URL once the first worker listens. */
  listening: Promise<string>;
  /** Tells every worker to drain (SIGTERM), waits for them (killing those past the grace) and resolves. Runs once. */
  stop(): Promise<void>;
}

/**
 * The node:cluster primary: forks `settings.workers` workers that share the listening socket (the primary
 * hands connections round-robin), replaces a worker that dies (after a growing delay when workers keep dying
 * young, so a crash loop does not spin), and on stop drains them all. It serves no request itself.
 */
export function startPrimary(o: PrimaryOptions): Primary {
  const { settings, log } = o;
  if (o.workerEntry) cluster.setupPrimary({ exec: o.workerEntry });
  let stopping = false;
  let youngDeaths = 0;
  const born = new Map<Worker, number>();

  const fork = () => {
    const worker = cluster.fork(o.workerEnv);
    born.set(worker, Date.now());
  };
  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (born.get(worker) ?? Date.now());
    born.delete(worker);
    if (stopping) return;
    youngDeaths = lived >= STABLE_AFTER_MS ? 0 : youngDeaths + 1;
    const delay = youngDeaths <= 1 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** youngDeaths);
    log(`worker ${worker.id} (pid ${worker.process.pid}) died (${signal ?? `exit code ${code}`}); starting a new one${delay ? ` in ${delay} ms` : ''}`);
    setTimeout(() => {
      if (!stopping) fork();
    }, delay);
  });

  const listening = new Promise<string>((resolve) => {
    cluster.once('listening', (_worker, address) => {
      const host = !address.address || address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
      resolve(`http://${host}:${address.port}`);
    });
  });
  for (let i = 0; i < settings.workers; i++) fork();

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
      await Promise.all(workers.map((w) => stopWorker(w, settings.shutdownGraceMs + WORKER_EXIT_MARGIN_MS, log)));
    })());
  return { listening, stop };
}

function stopWorker(worker: Worker, timeoutMs: number, log: (line: string) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    if (worker.isDead()) return resolve();
    const timer = setTimeout(() => {
      log(`worker ${worker.id} (pid ${worker.process.pid}) did not exit within ${timeoutMs} ms; killing it`);
      worker.process.kill('SIGKILL');
    }, timeoutMs);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    // A signal, not an IPC message: a worker still loading its modules has no handler yet and just ends, where a
    // message would be lost and the worker would start serving after all.
    worker.process.kill('SIGTERM');
  });
}
