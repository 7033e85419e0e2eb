import { deleteMany } from '../domain/batch';
import { json } from '../shared/http';
import { httpHandler } from '../shared/middleware';
import { batchDeleteBody } from '../shared/schemas';

/** POST /cache/batch/delete {"keys": [...]} → {"items": [{key, deleted}]}, in request order */
export const handler = httpHandler({
  body: batchDeleteBody,
  handle: async ({ body, services }) => json(200, { items: await deleteMany(services.entries, body.keys) }),
});
