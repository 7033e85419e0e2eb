import { setMany } from '../domain/batch';
import { json } from '../shared/http';
import { httpHandler } from '../shared/middleware';
import { batchSetBody } from '../shared/schemas';

/** POST /cache/batch/set {"items": [{key, value, ttl?, tags?}]} → {"items": [{key, created, version, …} | {key, error}]} */
export const handler = httpHandler({
  body: batchSetBody,
  handle: async ({ body, services }) => json(200, { items: await setMany(services.entries, body.items) }),
});
