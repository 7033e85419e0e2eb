import { getMany } from '../domain/batch';
import { json } from '../shared/http';
import { httpHandler } from '../shared/middleware';
import { batchGetBody } from '../shared/schemas';

/** POST /cache/batch/get {"keys": [...]} → {"items": [{key, found, value?, ttl?, version?, …}]}, in request order */
export const handler = httpHandler({
  body: batchGetBody,
  handle: async ({ body, services }) => json(200, { items: await getMany(services.entries, body.keys) }),
});
