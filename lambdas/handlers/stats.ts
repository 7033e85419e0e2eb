import { readStats } from '../domain/stats';
import { json } from '../http/results';
import { httpHandler } from '../http/middleware';

/** GET /cache/stats */
export const handler = httpHandler({
  handle: async ({ services }) => json(200, await readStats(services.redis)),
});
