import type { WriteCondition } from '../domain/entries';
import { CacheError } from '../core/errors';
import { etagOf, ifMatchCondition, NO_VERSION, parseEtags, preconditionFailed } from '../http/etag';
import { json, type HttpResult } from '../http/results';
import { routedHandler, type Operation, type RouteRequest } from '../http/middleware';
import { setEntryRoutes, type BodyOf } from '../routes';
import { provideStores } from '../services';
import { entryStore } from '../stores/entries';

type WriteBody = BodyOf<'putEntry'>;

/**
 * One entry write, whichever way it is addressed: conditions in the body (ifAbsent / ifPresent / ifVersion) or as
 * headers (If-Match / If-None-Match: *), keepTtl or ttl, tags, durability.
 */
async function writeEntry(key: string, body: WriteBody, { header, services }: RouteRequest<unknown>): Promise<HttpResult> {
  let condition: WriteCondition | undefined =
    body.ifAbsent ? { ifAbsent: true } : body.ifPresent ? { ifPresent: true } : body.ifVersion !== undefined ? { ifVersion: body.ifVersion } : undefined;
  const ifMatch = header('if-match');
  const ifNoneMatch = header('if-none-match');
  const fromHeader = ifMatch !== undefined || ifNoneMatch !== undefined;
  if (fromHeader && condition) {
    throw new CacheError('BAD_REQUEST', 'give a condition in the body (ifAbsent/ifPresent/ifVersion) or as a header (If-Match/If-None-Match), not both');
  }
  if (ifMatch !== undefined && ifNoneMatch !== undefined) throw new CacheError('BAD_REQUEST', 'give If-Match or If-None-Match, not both');
  const wanted = ifMatch === undefined ? undefined : ifMatchCondition(ifMatch);
  if (wanted !== undefined) condition = wanted === '*' ? { ifPresent: true } : { ifVersion: wanted ?? NO_VERSION };
  if (ifNoneMatch !== undefined) {
    if (parseEtags(ifNoneMatch) !== '*') throw new CacheError('BAD_REQUEST', 'on a write, If-None-Match takes only "*" (create only)');
    condition = { ifAbsent: true };
  }
  let result;
  try {
    result = await services.entries.set(key, body.value, body.ttl, { tags: body.tags, condition, keepTtl: body.keepTtl });
  } catch (e) {
    // A refused HTTP precondition is a 412, whatever the state that refused it.
    if (fromHeader && e instanceof CacheError && ['CONFLICT', 'NOT_FOUND', 'VERSION_CONFLICT'].includes(e.code) && e.details) {
      throw preconditionFailed(e, ifMatch, wanted ?? null);
    }
    throw e;
  }
  const { created, ...entry } = result;
  const etag = { etag: etagOf(entry.version) };
  if (body.durability === 'replicated') {
    // Half the request budget for WAIT, so the answer (written, replicated or not) always arrives in time.
    const waitMs = Math.max(10, Math.floor(services.config.redisTimeoutMs / 2));
    const replication = await services.entries.waitForReplicas(key, 1, waitMs);
    const replicated = { ...entry, replication: { ...replication, replicated: replication.acknowledged >= 1 } };
    return json(created ? 201 : 200, replicated, etag);
  }
  return json(created ? 201 : 200, entry, etag);
}

/** POST /cache: the key in the body. */
const post: Operation<BodyOf<'setEntry'>> = {
  handle: async (request) => {
    const { key, ...rest } = request.body;
    return writeEntry(key, rest, request as RouteRequest<unknown>);
  },
};

/** PUT /cache/{key} and PUT /cache?key=…: the key in the URL, as Upstash and Momento address writes. */
const put: Operation<WriteBody> = {
  handle: async (request) => writeEntry(request.key(), request.body, request as RouteRequest<unknown>),
};

provideStores(entryStore);

export const handler = routedHandler({ setEntry: post, putEntry: put, putEntryByQuery: put }, setEntryRoutes);
