import { json } from '../http/results';
import { routedHandler, type Operation } from '../http/middleware';
import type { BodyOf } from '../routes';

/** POST /cache/invalidate */
const invalidate: Operation<BodyOf<'invalidate'>> = {
  handle: async ({ body, services }) => json(200, { invalidated: await services.entries.invalidate(body) }),
  // A prefix or tag may cover millions of keys: the work may use the function's time, not one command's.
  keyspaceWide: true,
};

export const handler = routedHandler({ invalidate });
