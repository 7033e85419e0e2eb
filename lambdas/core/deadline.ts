import { UnavailableError } from './errors';

/**
 * Bounds a wait on Redis: one promise settled by the work or, past `ms`, rejected as UNAVAILABLE (503). No async
 * function, Promise.race or finally: each costs an allocation and a microtask, and a request pays this once.
 *
 * This is the only timeout on the service's commands (the client sets no per-command commandTimeout, core/redis.ts):
 * a request's deadline covers all its commands; outside requests, the readiness PING and closing bound themselves
 * here, while a hit-count flush waits for its answer on purpose (metrics/hit-counts.ts).
 */
export function withDeadline<T>(work: Promise<T>, ms: number, message = `the cache did not answer within ${ms} ms; retry shortly`): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new UnavailableError(message)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
