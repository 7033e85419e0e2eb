import type { z } from 'zod';
import { invalidateBody, setEntryBody, type SchemaLimits } from './shared/schemas';

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
    summary: 'Read one entry: value, remaining ttl, version and timestamps; 404 on a miss',
    query: [CONSISTENCY_QUERY],
  },
  {
    id: 'getEntryByQuery',
    method: 'GET',
    path: '/cache',
    handler: 'get-entry',
    summary: 'Read one entry named by ?key= — works for every key, "stats" and keys containing "/" included',
    query: [{ name: 'key', required: true, description: 'the key to read' }, CONSISTENCY_QUERY],
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
    summary: 'Remove the listed keys and/or every key under a literal prefix; answers how many were removed',
    body: invalidateBody,
  },
];

/** The distinct handler modules, one Lambda function each. */
export function handlerModules(table: readonly RouteDefinition[] = routes): string[] {
  return [...new Set(table.map((r) => r.handler))];
}
