import { readStats } from '../domain/stats';
import { json } from '../shared/http';
import { httpHandler } from '../shared/middleware';

/** GET /cache/stats */
export const handler = httpHandler({
  handle: async ({ services }) => json(200, await readStats(services.redis)),
});
