import { json } from '../http/results';
import { httpHandler } from '../http/middleware';
import { invalidateBody } from '../http/schemas';

/** POST /cache/invalidate */
export const handler = httpHandler({
  body: invalidateBody,
  handle: async ({ body, services }) => json(200, { invalidated: await services.entries.invalidate(body) }),
  // A prefix or tag may cover millions of keys: the work may use the function's time, not one command's.
  keyspaceWide: true,
});
