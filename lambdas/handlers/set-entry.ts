import { json } from '../shared/http';
import { httpHandler } from '../shared/middleware';
import { setEntryBody } from '../shared/schemas';

/** POST /cache */
export const handler = httpHandler({
  body: setEntryBody,
  handle: async ({ body, services }) => {
    const result = await services.entries.set(body.key, body.value, body.ttl);
    const { created, ...entry } = result;
    if (body.durability === 'replicated') {
      // Half the request budget for WAIT, so the answer (written, replicated or not) always arrives in time.
      const waitMs = Math.max(10, Math.floor(services.config.redisTimeoutMs / 2));
      const replication = await services.entries.waitForReplicas(body.key, 1, waitMs);
      return json(created ? 201 : 200, { ...entry, replication: { ...replication, replicated: replication.acknowledged >= 1 } });
    }
    return json(created ? 201 : 200, entry);
  },
});
