import { json } from '../shared/http';
import { httpHandler } from '../shared/middleware';
import { setEntryBody } from '../shared/schemas';

/** POST /cache */
export const handler = httpHandler({
  body: setEntryBody,
  handle: async ({ body, services }) => {
    const result = await services.entries.set(body.key, body.value, body.ttl);
    const { created, ...entry } = result;
    return json(created ? 201 : 200, entry);
  },
});
