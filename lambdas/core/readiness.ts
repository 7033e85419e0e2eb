import { UnavailableError } from './errors';
import type { RedisClient } from './redis';

/**
 * Waits, at most `ms`, for the client to be connected. Commands are only ever issued on a ready connection: the
 * client runs without an offline queue, because a queued command outlives the request that timed out and would
 * be applied later, behind the back of a client that was told 503.
 */
export function whenReady(client: RedisClient, ms: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'end') return Promise.reject(new UnavailableError('the cache connection is closed'));
  if (client.status === 'wait') client.connect().catch(() => undefined);
  return new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      if (error) reject(error);
      else resolve();
    };
    const onReady = () => done();
    const timer = setTimeout(
      () => done(new UnavailableError(`the cache could not be reached within ${ms} ms; retry shortly`)),
      ms,
    );
    client.on('ready', onReady);
  });
}
