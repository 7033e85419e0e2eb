import type { Server } from 'node:http';

/**
 * The life of a long-running HTTP service process (`npm start`; a later production server's workers can reuse
 * it): errors in request code never end the process, a stop signal drains the server within a bounded grace, and
 * the process exits once its resources are released.
 */

export type LogLine = (line: string) => void;

/**
 * An unhandled rejection or an exception thrown from a callback (e.g. inside a client library) belongs to one
 * request at most: that request is answered (500, or 503 at its deadline) by the code that awaits it, so the
 * process logs the error and keeps serving everyone else instead of dropping every request in flight.
 */
export function survivesRequestErrors(log: LogLine): void {
  process.on('unhandledRejection', (reason) => log(`unhandled rejection (process kept running): ${describe(reason)}`));
  process.on('uncaughtException', (error) => log(`uncaught exception (process kept running): ${describe(error)}`));
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

const DRAIN_POLL_MS = 50;

/**
 * Stops accepting connections, closes idle keep-alive connections at once and every connection as soon as its
 * response is sent, lets requests in flight finish for at most `graceMs`, then cuts what is left.
 */
export function closeGracefully(server: Server, graceMs: number): Promise<void> {
  // A request that arrives on a kept-alive connection while draining is served, then its connection closes.
  server.on('request', (_req, res) => res.setHeader('connection', 'close'));
  return new Promise<void>((resolve) => {
    const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
    const idle = setInterval(() => server.closeIdleConnections(), DRAIN_POLL_MS);
    server.close(() => {
      clearTimeout(deadline);
      clearInterval(idle);
      resolve();
    });
    server.closeIdleConnections();
  });
}

export interface ShutdownOptions {
  /** Releases everything the process holds (servers, clients, child processes); runs once. */
  stop: (reason: string) => Promise<void>;
  log: LogLine;
  /** Longest the whole shutdown may take before the process exits anyway (exit code 1). */
  timeoutMs: number;
}

/**
 * SIGTERM and SIGINT run `stop` once and exit; a second signal, or `stop` outliving `timeoutMs`, exits at once.
 * Returns the function that starts the shutdown, for other triggers (SIGHUP keeps its default, so `nohup` works).
 */
export function stopOnSignals(options: ShutdownOptions): (reason: string) => void {
  let stopping = false;
  const shutdown = (reason: string) => {
    if (stopping) {
      options.log(`${reason} received again, exiting now`);
      process.exit(1);
    }
    stopping = true;
    options.log(`${reason} received, shutting down`);
    setTimeout(() => {
      options.log(`shutdown took longer than ${options.timeoutMs} ms, exiting`);
      process.exit(1);
    }, options.timeoutMs).unref();
    options.stop(reason).then(
      () => process.exit(0),
      (e: unknown) => {
        options.log(`shutdown failed: ${describe(e)}`);
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => shutdown(signal));
  return shutdown;
}

const PARENT_POLL_MS = 1000;

/**
 * Calls `onOrphaned` once the process that started this one is gone (e.g. `npm start` killed with SIGKILL, which
 * cannot pass the signal on): a service whose lifetime is its launcher's must not keep running unseen.
 */
export function stopWhenOrphaned(onOrphaned: () => void): void {
  const parent = process.ppid;
  if (parent <= 1) return;
  const timer = setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') return;
      clearInterval(timer);
      onOrphaned();
    }
  }, PARENT_POLL_MS);
  timer.unref();
}
