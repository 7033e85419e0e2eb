import type * as z from './core/zod';
import {
  batchDeleteBody,
  batchGetBody,
  batchSetBody,
  counterBody,
  hashFieldsBody,
  hashIncrementBody,
  hashSetBody,
  invalidateBody,
  releaseLeaseBody,
  listPopBody,
  listPushBody,
  listTrimBody,
  membersBody,
  publishBody,
  putEntryBody,
  setEntryBody,
  setMembersBody,
  setPopBody,
  touchEntryBody,
  zsetAddBody,
  zsetIncrementBody,
  zsetRankBody,
  type SchemaLimits,
} from './http/schemas';
import * as R from './http/response-schemas';
import type { ErrorCode } from './http/response-schemas';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface QueryParameter {
  name: string;
  required: boolean;
  description: string;
}

/**
 * One route of the public API. This table is the single source of truth: the CDK API construct makes one API
 * Gateway resource and method per route, the local server dispatches by it, and docs/api.md describes it.
 */
export interface RouteDefinition {
  /** Stable identifier, also used for operation names and logical ids. */
  id: string;
  method: HttpMethod;
  /** API Gateway resource path; `{name}` is a path parameter. */
  path: string;
  /** Module under lambdas/handlers/ that exports `handler` (one Lambda function per module). */
  handler: string;
  summary: string;
  /** Schema of the JSON body, when the route takes one (the handler validates with it, API Gateway's model too). */
  body?: (limits: SchemaLimits) => z.ZodMiniType;
  /** The query parameters the route takes (any other is a 400; reading an undeclared one is a programming error). */
  query?: readonly QueryParameter[];
  /** What a success answers: its statuses, its body's schema (none for 204/304) and whether it carries an ETag. */
  response: RouteResponse;
  /** The error codes this route answers beyond those every route of its kind may (see errorCodesOf). */
  errors?: readonly ErrorCode[];
}

export interface RouteResponse {
  status: readonly (200 | 201 | 204 | 304)[];
  body?: () => z.ZodMiniType;
  /** The success answers carry `ETag: "<version>"` (and a 304 answers If-None-Match). */
  etag?: boolean;
}

const CONSISTENCY_QUERY: QueryParameter = {
  name: 'consistency',
  required: false,
  description: '"strong" reads the primary even when replicas serve reads (header x-skycache-consistency works too)',
};

/** Issue 13 (docs/client.md): stale reads within grace, and leases that let one caller fill a miss. */
const GRACE_AND_LEASE_QUERY: QueryParameter[] = [
  { name: 'allowStale', required: false, description: 'true: answer an entry past its ttl within its grace too, marked "stale": true (else it reads as a miss)' },
  {
    name: 'lease',
    required: false,
    description:
      'milliseconds (1-300000): on a miss or a stale entry, one caller at a time gets a lease token to fill it (404 details.lease, or "lease" beside the stale entry); ' +
      'the others get 404 FILLING with details.retryAfterMs, or the stale entry. A read with a lease runs on the primary (it may write the lease)',
  },
];

/** The routes of lambdas/handlers/stats.ts. */
export const statsRoutes = /* @__PURE__ */ routeFamily([
  {
    id: 'getCacheStats', response: { status: [200], body: R.statsBody },
    method: 'GET',
    path: '/cache/stats',
    handler: 'stats',
    summary:
      'Hits and misses of the reads the API served, per route family, with the cache\'s own figures: deployed, from CloudWatch over ?window= ' +
      '(the fleet\'s metrics, ElastiCache CPU, memory, evictions, connections, replication lag); locally, the counts in Redis and Redis INFO',
    query: [{ name: 'window', required: false, description: 'deployed: 5m, 1h (default) or 24h; anything else is a 400' }],
  },
]);

/** The routes of lambdas/handlers/get-entry.ts. */
export const getEntryRoutes = /* @__PURE__ */ routeFamily([
  {
    id: 'getEntry', response: { status: [200, 304], body: R.entryBody, etag: true }, errors: ['BAD_REQUEST', 'NOT_FOUND', 'WRONG_TYPE'],
    method: 'GET',
    path: '/cache/{key}',
    handler: 'get-entry',
    summary: 'Read one entry: value, remaining ttl, version, tags and timestamps, ETag = version; 404 on a miss, 304 on If-None-Match',
    query: [...readQuery(), ...GRACE_AND_LEASE_QUERY],
  },
  {
    id: 'getEntryByQuery', response: { status: [200, 304], body: R.entryBody, etag: true }, errors: ['BAD_REQUEST', 'NOT_FOUND', 'WRONG_TYPE'],
    method: 'GET',
    path: '/cache',
    handler: 'get-entry',
    summary: 'Read one entry named by ?key= — works for every key, "stats" and keys containing "/" included',
    query: [...readQuery(keyQuery('the key to read')), ...GRACE_AND_LEASE_QUERY],
  },
]);

/** The routes of lambdas/handlers/set-entry.ts. */
export const setEntryRoutes = /* @__PURE__ */ routeFamily([
  {
    id: 'setEntry', response: { status: [200, 201], body: R.writeBody, etag: true }, errors: ['NOT_FOUND', 'CONFLICT', 'VERSION_CONFLICT', 'LEASE_CONFLICT', 'PRECONDITION_FAILED', 'WRONG_TYPE'],
    method: 'POST',
    path: '/cache',
    handler: 'set-entry',
    summary: 'Create or replace an entry: 201 when created, 200 when replaced; the version grows by one per write',
    body: setEntryBody,
  },
  {
    id: 'putEntry', response: { status: [200, 201], body: R.writeBody, etag: true }, errors: ['NOT_FOUND', 'CONFLICT', 'VERSION_CONFLICT', 'LEASE_CONFLICT', 'PRECONDITION_FAILED', 'WRONG_TYPE'],
    method: 'PUT',
    path: '/cache/{key}',
    handler: 'set-entry',
    summary: 'Create or replace the entry named by the URL, the value and options in the body (as POST /cache without "key"): 201 or 200',
    body: putEntryBody,
  },
  {
    id: 'putEntryByQuery', response: { status: [200, 201], body: R.writeBody, etag: true }, errors: ['NOT_FOUND', 'CONFLICT', 'VERSION_CONFLICT', 'LEASE_CONFLICT', 'PRECONDITION_FAILED', 'WRONG_TYPE'],
    method: 'PUT',
    path: '/cache',
    handler: 'set-entry',
    summary: 'Create or replace the entry named by ?key= (for every key, reserved names and keys with "/" included)',
    body: putEntryBody,
    query: [{ name: 'key', required: true, description: 'the key to write' }],
  },
  {
    id: 'releaseLease', response: { status: [204] }, errors: ['LEASE_CONFLICT'],
    method: 'POST',
    path: '/cache/lease/release',
    handler: 'set-entry',
    summary: 'Give up a lease a read granted (?lease=), e.g. when loading the value failed: 204, or 409 LEASE_CONFLICT when it is no longer this token\'s',
    body: releaseLeaseBody,
  },
]);

/** The routes of lambdas/handlers/delete-entry.ts. */
export const deleteEntryRoutes = /* @__PURE__ */ routeFamily([
  {
    id: 'deleteEntry', response: { status: [204] }, errors: ['BAD_REQUEST', 'NOT_FOUND', 'PRECONDITION_FAILED'],
    method: 'DELETE',
    path: '/cache/{key}',
    handler: 'delete-entry',
    summary: 'Delete one entry: 204, or 404 when nothing was there',
  },
  {
    id: 'deleteEntryByQuery', response: { status: [204] }, errors: ['BAD_REQUEST', 'NOT_FOUND', 'PRECONDITION_FAILED'],
    method: 'DELETE',
    path: '/cache',
    handler: 'delete-entry',
    summary: 'Delete one entry named by ?key= (for keys that do not fit in a path segment)',
    query: [{ name: 'key', required: true, description: 'the key to delete' }],
  },
]);

/** The routes of lambdas/handlers/invalidate.ts. */
export const invalidateRoutes = /* @__PURE__ */ routeFamily([
  {
    id: 'invalidate', response: { status: [200], body: R.invalidatedBody },
    method: 'POST',
    path: '/cache/invalidate',
    handler: 'invalidate',
    summary: 'Remove the listed keys, every key under a literal prefix and/or every entry carrying any listed tag; answers how many were removed',
    body: invalidateBody,
  },
]);

// Batches, TTL control (issue 4, docs/entries-advanced.md). Conditional writes and tags extend the routes above.
/** The routes of lambdas/handlers/batch.ts. */
export const batchRoutes = /* @__PURE__ */ routeFamily([
  {
    id: 'batchGet', response: { status: [200], body: R.batchGetAnswer },
    method: 'POST',
    path: '/cache/batch/get',
    handler: 'batch',
    summary: 'Read up to 100 keys in one request (one round trip per shard): per key found, value, ttl, version',
    body: batchGetBody,
  },
  {
    id: 'batchSet', response: { status: [200], body: R.batchSetAnswer },
    method: 'POST',
    path: '/cache/batch/set',
    handler: 'batch',
    summary: 'Write up to 100 entries, each with its own ttl and tags (one round trip per shard): per item version or error',
    body: batchSetBody,
  },
  {
    id: 'batchDelete', response: { status: [200], body: R.batchDeleteAnswer },
    method: 'POST',
    path: '/cache/batch/delete',
    handler: 'batch',
    summary: 'Delete up to 100 keys (one round trip per shard): per key whether it was there',
    body: batchDeleteBody,
  },
]);

/** The routes of lambdas/handlers/entry-ttl.ts. */
export const entryTtlRoutes = /* @__PURE__ */ routeFamily([
  {
    id: 'getEntryTtl', response: { status: [200], body: R.ttlBody }, errors: ['NOT_FOUND'],
    method: 'GET',
    path: '/cache/{key}/ttl',
    handler: 'entry-ttl',
    summary: 'Remaining TTL of a key in seconds (null when it never expires); 404 when absent',
  },
  {
    id: 'touchEntry', response: { status: [200], body: R.ttlBody }, errors: ['NOT_FOUND'],
    method: 'PUT',
    path: '/cache/{key}/ttl',
    handler: 'entry-ttl',
    summary: 'Set a key to expire ttl seconds from now, leaving value and version alone; 404 when absent',
    body: touchEntryBody,
  },
  {
    id: 'persistEntry', response: { status: [200], body: R.ttlBody }, errors: ['NOT_FOUND'],
    method: 'DELETE',
    path: '/cache/{key}/ttl',
    handler: 'entry-ttl',
    summary: 'Remove a key\'s expiry: it stays until deleted, invalidated or evicted; 404 when absent',
  },
  {
    id: 'getEntryTtlByQuery', response: { status: [200], body: R.ttlBody }, errors: ['NOT_FOUND'],
    method: 'GET',
    path: '/cache/ttl',
    handler: 'entry-ttl',
    summary: 'Remaining TTL of the key named by ?key= (for keys that do not fit in a path segment)',
    query: [keyQuery('the key whose TTL to read')],
  },
  {
    id: 'touchEntryByQuery', response: { status: [200], body: R.ttlBody }, errors: ['NOT_FOUND'],
    method: 'PUT',
    path: '/cache/ttl',
    handler: 'entry-ttl',
    summary: 'Set the key named by ?key= to expire ttl seconds from now',
    body: touchEntryBody,
    query: [keyQuery('the key to touch')],
  },
  {
    id: 'persistEntryByQuery', response: { status: [200], body: R.ttlBody }, errors: ['NOT_FOUND'],
    method: 'DELETE',
    path: '/cache/ttl',
    handler: 'entry-ttl',
    summary: 'Remove the expiry of the key named by ?key=',
    query: [keyQuery('the key to persist')],
  },
]);

// --- Data structures: one handler module per type (docs/data-structures.md) ---
/** The routes of lambdas/handlers/lists.ts. */
export const listsRoutes = /* @__PURE__ */ routeFamily([
  {
    id: 'getListRange', response: { status: [200], body: R.listRangeBody }, errors: ['NOT_FOUND', 'WRONG_TYPE', 'PAYLOAD_TOO_LARGE'],
    method: 'GET',
    path: '/lists/{key}',
    handler: 'lists',
    summary: 'Read a list (or the part from ?start= to ?stop=, inclusive, negative from the end) with its size and ttl; 404 when there is none',
    query: [
      { name: 'start', required: false, description: 'first index, default 0' },
      { name: 'stop', required: false, description: 'last index, inclusive, default -1 (the end)' },
    ],
  },
  { id: 'deleteList', response: { status: [204] }, errors: ['NOT_FOUND', 'WRONG_TYPE'], method: 'DELETE', path: '/lists/{key}', handler: 'lists', summary: 'Delete a list: 204, or 404 when none was there' },
  {
    id: 'pushList', response: { status: [200, 201], body: R.listPushBody }, errors: ['CONFLICT', 'WRONG_TYPE'],
    method: 'POST',
    path: '/lists/{key}/push',
    handler: 'lists',
    summary: 'Push values onto the left or right end (201 when the list was created); optional ttl for the list',
    body: listPushBody,
  },
  { id: 'popList', response: { status: [200], body: R.listPopBody }, errors: ['WRONG_TYPE'], method: 'POST', path: '/lists/{key}/pop', handler: 'lists', summary: 'Remove and return up to count values from one end', body: listPopBody },
  { id: 'getListSize', response: { status: [200], body: R.sizeBody }, errors: ['WRONG_TYPE'], method: 'GET', path: '/lists/{key}/size', handler: 'lists', summary: 'Number of values in a list (0 when there is none)' },
  { id: 'trimList', response: { status: [200], body: R.sizeBody }, errors: ['WRONG_TYPE'], method: 'POST', path: '/lists/{key}/trim', handler: 'lists', summary: 'Keep only the values from start to stop, inclusive', body: listTrimBody },
]);

/** The routes of lambdas/handlers/sets.ts. */
export const setsRoutes = /* @__PURE__ */ routeFamily([
  { id: 'getSetMembers', response: { status: [200], body: R.setMembersAnswer }, errors: ['NOT_FOUND', 'WRONG_TYPE', 'PAYLOAD_TOO_LARGE'], method: 'GET', path: '/sets/{key}', handler: 'sets', summary: 'Every member of a set with its size and ttl; 404 when there is none' },
  { id: 'deleteSet', response: { status: [204] }, errors: ['NOT_FOUND', 'WRONG_TYPE'], method: 'DELETE', path: '/sets/{key}', handler: 'sets', summary: 'Delete a set: 204, or 404 when none was there' },
  {
    id: 'addSetMembers', response: { status: [200, 201], body: R.setAddBody }, errors: ['CONFLICT', 'WRONG_TYPE'],
    method: 'POST',
    path: '/sets/{key}/add',
    handler: 'sets',
    summary: 'Add members (201 when the set was created); answers how many were new; optional ttl for the set',
    body: setMembersBody,
  },
  { id: 'removeSetMembers', response: { status: [200], body: R.removedBody }, errors: ['WRONG_TYPE'], method: 'POST', path: '/sets/{key}/remove', handler: 'sets', summary: 'Remove members; answers how many were there', body: membersBody },
  { id: 'containsSetMembers', response: { status: [200], body: R.containsBody }, errors: ['WRONG_TYPE'], method: 'POST', path: '/sets/{key}/contains', handler: 'sets', summary: 'Whether each of the given members is in the set', body: membersBody },
  { id: 'getSetSize', response: { status: [200], body: R.sizeBody }, errors: ['WRONG_TYPE'], method: 'GET', path: '/sets/{key}/size', handler: 'sets', summary: 'Number of members in a set (0 when there is none)' },
  { id: 'popSetMembers', response: { status: [200], body: R.setPopAnswer }, errors: ['WRONG_TYPE'], method: 'POST', path: '/sets/{key}/pop', handler: 'sets', summary: 'Remove and return up to count random members', body: setPopBody },
]);

/** The routes of lambdas/handlers/hashes.ts. */
export const hashesRoutes = /* @__PURE__ */ routeFamily([
  { id: 'getHash', response: { status: [200], body: R.hashBody }, errors: ['NOT_FOUND', 'WRONG_TYPE', 'PAYLOAD_TOO_LARGE'], method: 'GET', path: '/hashes/{key}', handler: 'hashes', summary: 'Every field of a hash with its size and ttl; 404 when there is none' },
  { id: 'deleteHash', response: { status: [204] }, errors: ['NOT_FOUND', 'WRONG_TYPE'], method: 'DELETE', path: '/hashes/{key}', handler: 'hashes', summary: 'Delete a hash: 204, or 404 when none was there' },
  {
    id: 'setHashFields', response: { status: [200, 201], body: R.upsertBody }, errors: ['CONFLICT', 'WRONG_TYPE'],
    method: 'POST',
    path: '/hashes/{key}/set',
    handler: 'hashes',
    summary: 'Set fields to JSON values (201 when the hash was created); optional ttl for the hash',
    body: hashSetBody,
  },
  { id: 'getHashFields', response: { status: [200], body: R.hashFieldsAnswer }, errors: ['WRONG_TYPE'], method: 'POST', path: '/hashes/{key}/get', handler: 'hashes', summary: 'Read the named fields; lists those missing', body: hashFieldsBody },
  { id: 'removeHashFields', response: { status: [200], body: R.removedBody }, errors: ['WRONG_TYPE'], method: 'POST', path: '/hashes/{key}/remove', handler: 'hashes', summary: 'Delete the named fields', body: hashFieldsBody },
  {
    id: 'incrementHashField', response: { status: [200, 201], body: R.hashIncrementAnswer }, errors: ['CONFLICT', 'WRONG_TYPE'],
    method: 'POST',
    path: '/hashes/{key}/increment',
    handler: 'hashes',
    summary: 'Add an integer to an integer field, creating it at 0',
    body: hashIncrementBody,
  },
  { id: 'getHashSize', response: { status: [200], body: R.sizeBody }, errors: ['WRONG_TYPE'], method: 'GET', path: '/hashes/{key}/size', handler: 'hashes', summary: 'Number of fields in a hash (0 when there is none)' },
]);

/** The routes of lambdas/handlers/sorted-sets.ts. */
export const sortedSetsRoutes = /* @__PURE__ */ routeFamily([
  {
    id: 'getSortedSetRange', response: { status: [200], body: R.zsetRangeBody }, errors: ['NOT_FOUND', 'WRONG_TYPE', 'PAYLOAD_TOO_LARGE'],
    method: 'GET',
    path: '/zsets/{key}',
    handler: 'sorted-sets',
    summary: 'Members of a sorted set by rank, from ?start= to ?stop= (inclusive); 404 when there is none',
    query: [
      { name: 'start', required: false, description: 'first rank, default 0' },
      { name: 'stop', required: false, description: 'last rank, inclusive, default -1 (the last)' },
      { name: 'reverse', required: false, description: 'true: rank from the highest score' },
      { name: 'withScores', required: false, description: 'true: answer {member, score} pairs' },
    ],
  },
  {
    id: 'getSortedSetRangeByScore', response: { status: [200], body: R.zsetRangeBody }, errors: ['NOT_FOUND', 'WRONG_TYPE', 'PAYLOAD_TOO_LARGE'],
    method: 'GET',
    path: '/zsets/{key}/by-score',
    handler: 'sorted-sets',
    summary: 'Members whose score is within ?min= and ?max=, paged by ?offset= and ?limit=; 404 when there is no sorted set',
    query: [
      { name: 'min', required: false, description: 'lowest score: a number, "(" + number for exclusive, or -inf (default)' },
      { name: 'max', required: false, description: 'highest score: a number, "(" + number for exclusive, or +inf (default)' },
      { name: 'reverse', required: false, description: 'true: highest score first' },
      { name: 'withScores', required: false, description: 'true: answer {member, score} pairs' },
      { name: 'offset', required: false, description: 'members to skip, default 0' },
      { name: 'limit', required: false, description: 'most members to answer, default all' },
    ],
  },
  { id: 'deleteSortedSet', response: { status: [204] }, errors: ['NOT_FOUND', 'WRONG_TYPE'], method: 'DELETE', path: '/zsets/{key}', handler: 'sorted-sets', summary: 'Delete a sorted set: 204, or 404 when none was there' },
  {
    id: 'addSortedSetMembers', response: { status: [200, 201], body: R.upsertBody }, errors: ['CONFLICT', 'WRONG_TYPE'],
    method: 'POST',
    path: '/zsets/{key}/add',
    handler: 'sorted-sets',
    summary: 'Add or update members with scores, under nx/xx/gt/lt (201 when the sorted set was created); optional ttl',
    body: zsetAddBody,
  },
  { id: 'removeSortedSetMembers', response: { status: [200], body: R.removedBody }, errors: ['WRONG_TYPE'], method: 'POST', path: '/zsets/{key}/remove', handler: 'sorted-sets', summary: 'Remove members', body: membersBody },
  { id: 'rankSortedSetMember', response: { status: [200], body: R.zsetRankAnswer }, errors: ['WRONG_TYPE'], method: 'POST', path: '/zsets/{key}/rank', handler: 'sorted-sets', summary: 'A member\'s rank and score (nulls when absent)', body: zsetRankBody },
  { id: 'scoreSortedSetMembers', response: { status: [200], body: R.zsetScoresBody }, errors: ['WRONG_TYPE'], method: 'POST', path: '/zsets/{key}/scores', handler: 'sorted-sets', summary: 'The scores of the given members (null when absent)', body: membersBody },
  {
    id: 'incrementSortedSetMember', response: { status: [200, 201], body: R.zsetIncrementAnswer }, errors: ['CONFLICT', 'WRONG_TYPE'],
    method: 'POST',
    path: '/zsets/{key}/increment',
    handler: 'sorted-sets',
    summary: 'Add a number to a member\'s score, adding the member at 0 when absent',
    body: zsetIncrementBody,
  },
  {
    id: 'countSortedSetMembers', response: { status: [200], body: R.zsetCountBody }, errors: ['WRONG_TYPE'],
    method: 'GET',
    path: '/zsets/{key}/count',
    handler: 'sorted-sets',
    summary: 'Number of members whose score is within ?min= and ?max=',
    query: [
      { name: 'min', required: false, description: 'lowest score (as for by-score), default -inf' },
      { name: 'max', required: false, description: 'highest score (as for by-score), default +inf' },
    ],
  },
  { id: 'getSortedSetSize', response: { status: [200], body: R.sizeBody }, errors: ['WRONG_TYPE'], method: 'GET', path: '/zsets/{key}/size', handler: 'sorted-sets', summary: 'Number of members in a sorted set (0 when there is none)' },
]);

/** The routes of lambdas/handlers/counters.ts. */
export const countersRoutes = /* @__PURE__ */ routeFamily([
  {
    id: 'incrementCounter', response: { status: [200, 201], body: R.counterBody, etag: true }, errors: ['CONFLICT', 'WRONG_TYPE'],
    method: 'POST',
    path: '/counters/{key}',
    handler: 'counters',
    summary: 'Add an integer (default 1, negative to decrement) to a counter entry, creating it at 0 (201)',
    body: counterBody,
  },
  { id: 'getCounter', response: { status: [200], body: R.counterReadBody, etag: true }, errors: ['NOT_FOUND', 'CONFLICT', 'WRONG_TYPE'], method: 'GET', path: '/counters/{key}', handler: 'counters', summary: 'Read a counter: value, version, ttl, tags, ETag; 404 when there is none' },
  { id: 'deleteCounter', response: { status: [204] }, errors: ['NOT_FOUND', 'CONFLICT', 'WRONG_TYPE'], method: 'DELETE', path: '/counters/{key}', handler: 'counters', summary: 'Delete a counter: 204, or 404 when none was there' },
]);

// --- Pub/sub topics and change events (docs/pubsub.md) ---
/** The routes of lambdas/handlers/topics.ts. */
export const topicsRoutes = /* @__PURE__ */ routeFamily([
  {
    id: 'publishMessage', response: { status: [201], body: R.publishAnswer }, errors: ['WRONG_TYPE'],
    method: 'POST',
    path: '/topics/{topic}/messages',
    handler: 'topics',
    summary: 'Publish {"message": <any JSON>} to a topic (name rules as for keys): 201 with the message id; ordered per topic, kept per the retention settings',
    body: publishBody,
  },
  {
    id: 'subscribeTopic', response: { status: [200], body: R.topicReadBody }, errors: ['WRONG_TYPE'],
    method: 'GET',
    path: '/topics/{topic}/messages',
    handler: 'topics',
    summary: 'Messages after ?after= (or Last-Event-ID): at once when there are some, else waiting up to ?wait= s; {messages, next, missed}, or Server-Sent Events with Accept: text/event-stream',
    query: subscribeQuery(),
  },
  {
    id: 'subscribeChanges', response: { status: [200], body: R.topicReadBody }, errors: ['NOT_FOUND'],
    method: 'GET',
    path: '/changes',
    handler: 'topics',
    summary: 'Change events {key, op, version, tags} of entry writes, deletes, TTL changes and invalidations (when CHANGE_EVENTS is on), read like a topic; in a cluster per hash slot: ?key= or ?slot=',
    query: subscribeQuery(
      { name: 'key', required: false, description: 'cluster: read the change stream of this key\'s hash slot' },
      { name: 'slot', required: false, description: 'cluster: read the change stream of this hash slot (0-16383)' },
    ),
  },
]);

/**
 * The whole table, in the order API Gateway resources and docs/openapi.json list the routes. Each handler module
 * passes routedHandler its own family's routes (above), so its bundle carries only those and their schemas.
 */
const routeTable = /* @__PURE__ */ concatRoutes(
  statsRoutes,
  getEntryRoutes,
  setEntryRoutes,
  deleteEntryRoutes,
  invalidateRoutes,
  batchRoutes,
  entryTtlRoutes,
  listsRoutes,
  setsRoutes,
  hashesRoutes,
  sortedSetsRoutes,
  countersRoutes,
  topicsRoutes,
);

/** Every route of the API. */
export const routes: readonly RouteDefinition[] = routeTable;

type TableRoute = (typeof routeTable)[number];
/** The id of a route in the table. */
export type RouteId = TableRoute['id'];
/** A route of the table by id, with its literal method and path (the typed client, client/, is checked against these). */
export type RouteOf<Id extends RouteId> = Extract<TableRoute, { id: Id }>;
/** The body a route's schema produces (undefined for a route without a body). */
export type BodyOf<Id extends RouteId> =
  Extract<TableRoute, { id: Id }> extends { body: (limits: SchemaLimits) => infer S }
    ? S extends z.ZodMiniType
      ? z.output<S>
      : never
    : undefined;

/**
 * Every error code a route may answer, from the route table: those of every route (an unknown or bad query
 * parameter, no or a wrong API key on the HTTP server, Redis unreachable, an unexpected failure), those of a route
 * with a body or a key, of a write (Redis full), and the route's own.
 */
export function errorCodesOf(route: RouteDefinition): ErrorCode[] {
  const codes = new Set<ErrorCode>(['VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', 'UNAVAILABLE', 'INTERNAL']);
  if (route.body) for (const c of ['BAD_REQUEST', 'INVALID_JSON', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE'] as const) codes.add(c);
  if (/\{\w+\}/.test(route.path) || route.query?.some((q) => q.name === 'key')) codes.add('INVALID_KEY');
  if (!readsOnly(route) && route.id !== 'subscribeTopic' && route.id !== 'subscribeChanges') codes.add('OUT_OF_MEMORY');
  for (const c of route.errors ?? []) codes.add(c);
  return R.ERROR_CODES.filter((c) => codes.has(c));
}

/** The table's routes by `METHOD /resource` (as API Gateway names them in the proxy event). */
export function routeSignature(route: Pick<RouteDefinition, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

// The helpers below are marked free of side effects, so a bundle that leaves a family's routes out (routeFamily)
// leaves their calls out too.

/* @__NO_SIDE_EFFECTS__ */
function subscribeQuery(...first: QueryParameter[]): QueryParameter[] {
  return [
    ...first,
    { name: 'after', required: false, description: 'answer the messages after this id (the last one you processed); absent: from the oldest kept' },
    { name: 'limit', required: false, description: 'most messages to answer, 1-1000, default 100' },
    { name: 'wait', required: false, description: 'seconds to wait when there is nothing yet, default and at most TOPIC_MAX_WAIT_SECONDS (20)' },
  ];
}

/* @__NO_SIDE_EFFECTS__ */
function keyQuery(description: string): QueryParameter {
  return { name: 'key', required: true, description };
}

/** The query of an entry read: touch, sliding, consistency (after `first`). */
/* @__NO_SIDE_EFFECTS__ */
function readQuery(...first: QueryParameter[]): QueryParameter[] {
  return [
    ...first,
    { name: 'touch', required: false, description: 'seconds: on a hit, the entry now expires this long from now (sliding expiration)' },
    { name: 'sliding', required: false, description: 'true: on a hit, the entry expires again after the ttl it was last written with' },
    CONSISTENCY_QUERY,
  ];
}

/** The POST routes that only look things up (their body names the keys, members or fields). */
const READING_POSTS = new Set(['batchGet', 'containsSetMembers', 'getHashFields', 'rankSortedSetMember', 'scoreSortedSetMembers']);

/**
 * The GET routes that write: a subscribe trims its stream to the retention settings and records what it trimmed
 * (docs/pubsub.md), so it runs on the primary.
 */
const WRITING_GETS = new Set(['subscribeTopic', 'subscribeChanges']);

/**
 * Whether a route only reads: it sends Redis no write command and a replica may serve it when REDIS_READ_FROM=replica
 * (every GET but the subscribes, and the POSTs above). Touch and sliding GETs change the expiry, and a GET with
 * ?lease= may take a lease (issue 13), so those go to the primary.
 */
export function readsOnly(route: Pick<RouteDefinition, 'id' | 'method'>): boolean {
  return (route.method === 'GET' && !WRITING_GETS.has(route.id)) || READING_POSTS.has(route.id);
}

/**
 * One handler module's routes, typed as written (ids, methods and bodies as literals). A call marked pure, so a
 * bundle that does not use a family's routes leaves them out (an array literal that spreads another would stay).
 */
/* @__NO_SIDE_EFFECTS__ */
function routeFamily<const T extends readonly RouteDefinition[]>(family: T): T {
  return family;
}

function concatRoutes<const T extends readonly (readonly RouteDefinition[])[]>(...families: T): readonly T[number][number][] {
  return families.flat();
}

/** The distinct handler modules, one Lambda function each. */
export function handlerModules(table: readonly RouteDefinition[] = routes): string[] {
  return [...new Set(table.map((r) => r.handler))];
}
