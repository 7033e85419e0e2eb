import type { z } from 'zod';
import {
  batchDeleteBody,
  batchGetBody,
  batchSetBody,
  invalidateBody,
  setEntryBody,
  touchEntryBody,
  type SchemaLimits,
} from './shared/schemas';

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
  /** Schema of the JSON body, when the route takes one. */
  body?: (limits: SchemaLimits) => z.ZodType;
  query?: QueryParameter[];
}

const CONSISTENCY_QUERY: QueryParameter = {
  name: 'consistency',
  required: false,
  description: '"strong" reads the primary even when replicas serve reads (header x-skycache-consistency works too)',
};

export const routes: RouteDefinition[] = [
  {
    id: 'getCacheStats',
    method: 'GET',
    path: '/cache/stats',
    handler: 'stats',
    summary: 'Hit and miss counts of GETs served by the API, and Redis figures (keys, memory, evictions, clients, ops/sec)',
  },
  {
    id: 'getEntry',
    method: 'GET',
    path: '/cache/{key}',
    handler: 'get-entry',
    summary: 'Read one entry: value, remaining ttl, version, tags and timestamps, ETag = version; 404 on a miss, 304 on If-None-Match',
    query: [...readOptions(false), CONSISTENCY_QUERY],
  },
  {
    id: 'getEntryByQuery',
    method: 'GET',
    path: '/cache',
    handler: 'get-entry',
    summary: 'Read one entry named by ?key= — works for every key, "stats" and keys containing "/" included',
    query: [{ name: 'key', required: true, description: 'the key to read' }, ...readOptions(false), CONSISTENCY_QUERY],
  },
  {
    id: 'setEntry',
    method: 'POST',
    path: '/cache',
    handler: 'set-entry',
    summary: 'Create or replace an entry: 201 when created, 200 when replaced; the version grows by one per write',
    body: setEntryBody,
  },
  {
    id: 'deleteEntry',
    method: 'DELETE',
    path: '/cache/{key}',
    handler: 'delete-entry',
    summary: 'Delete one entry: 204, or 404 when nothing was there',
  },
  {
    id: 'deleteEntryByQuery',
    method: 'DELETE',
    path: '/cache',
    handler: 'delete-entry',
    summary: 'Delete one entry named by ?key= (for keys that do not fit in a path segment)',
    query: [{ name: 'key', required: true, description: 'the key to delete' }],
  },
  {
    id: 'invalidate',
    method: 'POST',
    path: '/cache/invalidate',
    handler: 'invalidate',
    summary: 'Remove the listed keys, every key under a literal prefix and/or every entry carrying any listed tag; answers how many were removed',
    body: invalidateBody,
  },
  // Batches, TTL control (issue 4, docs/entries-advanced.md). Conditional writes and tags extend the routes above.
  {
    id: 'batchGet',
    method: 'POST',
    path: '/cache/batch/get',
    handler: 'batch-get',
    summary: 'Read up to 100 keys in one request (one round trip per shard): per key found, value, ttl, version',
    body: batchGetBody,
  },
  {
    id: 'batchSet',
    method: 'POST',
    path: '/cache/batch/set',
    handler: 'batch-set',
    summary: 'Write up to 100 entries, each with its own ttl and tags (one round trip per shard): per item version or error',
    body: batchSetBody,
  },
  {
    id: 'batchDelete',
    method: 'POST',
    path: '/cache/batch/delete',
    handler: 'batch-delete',
    summary: 'Delete up to 100 keys (one round trip per shard): per key whether it was there',
    body: batchDeleteBody,
  },
  {
    id: 'getEntryTtl',
    method: 'GET',
    path: '/cache/{key}/ttl',
    handler: 'entry-ttl',
    summary: 'Remaining TTL of a key in seconds (null when it never expires); 404 when absent',
  },
  {
    id: 'touchEntry',
    method: 'PUT',
    path: '/cache/{key}/ttl',
    handler: 'touch-entry',
    summary: 'Set a key to expire ttl seconds from now, leaving value and version alone; 404 when absent',
    body: touchEntryBody,
  },
  {
    id: 'persistEntry',
    method: 'DELETE',
    path: '/cache/{key}/ttl',
    handler: 'persist-entry',
    summary: 'Remove a key\'s expiry: it stays until deleted, invalidated or evicted; 404 when absent',
  },
  {
    id: 'getEntryTtlByQuery',
    method: 'GET',
    path: '/cache/ttl',
    handler: 'entry-ttl',
    summary: 'Remaining TTL of the key named by ?key= (for keys that do not fit in a path segment)',
    query: [keyQuery('the key whose TTL to read')],
  },
  {
    id: 'touchEntryByQuery',
    method: 'PUT',
    path: '/cache/ttl',
    handler: 'touch-entry',
    summary: 'Set the key named by ?key= to expire ttl seconds from now',
    body: touchEntryBody,
    query: [keyQuery('the key to touch')],
  },
  {
    id: 'persistEntryByQuery',
    method: 'DELETE',
    path: '/cache/ttl',
    handler: 'persist-entry',
    summary: 'Remove the expiry of the key named by ?key=',
    query: [keyQuery('the key to persist')],
  },
];

function keyQuery(description: string): QueryParameter {
  return { name: 'key', required: true, description };
}

function readOptions(required: boolean): QueryParameter[] {
  return [
    { name: 'touch', required, description: 'seconds: on a hit, the entry now expires this long from now (sliding expiration)' },
    { name: 'sliding', required, description: 'true: on a hit, the entry expires again after the ttl it was last written with' },
  ];
}

/** The distinct handler modules, one Lambda function each. */
export function handlerModules(table: readonly RouteDefinition[] = routes): string[] {
  return [...new Set(table.map((r) => r.handler))];
}
