import { readStats } from '../domain/stats';
import { json } from '../http/results';
import { routedHandler, type Operation } from '../http/middleware';

/** GET /cache/stats */
const read: Operation<undefined> = {
  handle: async ({ services }) => json(200, await readStats(services.redis)),
};

export const handler = routedHandler({ getCacheStats: read });
