import * as z from '../core/zod';
import type { CacheErrorCode } from '../core/errors';
import { STATUS_OF } from './results';

/**
 * The bodies the routes answer, one schema per shape. The route table (lambdas/routes.ts) names each route's
 * success body and the errors it may answer; docs/openapi.json is written from them (lambdas/api-description.ts),
 * and test/openapi.test.ts holds every route's real answers to them. Objects are strict: a field a handler adds
 * must be declared here first.
 */

const json = () => z.unknown();
const seconds = () => z.nullable(z.int());
/** ISO-8601 UTC with milliseconds, as Date.toISOString writes it. */
const timestamp = () => z.string().check(z.regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/));
const key = () => z.string();

/** An entry as the entry reads answer it (`createdAt`/`updatedAt` null for a string another client wrote). */
const entryFields = {
  key: key(),
  value: json(),
  ttl: seconds(),
  version: z.int(),
  createdAt: z.nullable(timestamp()),
  updatedAt: z.nullable(timestamp()),
  tags: z.array(z.string()),
  /** Written with grace (issue 13): the grace period in seconds (once stale, the seconds left of it). */
  grace: z.optional(z.int()),
  /** Written with grace: whether the entry is past its ttl (then `ttl` is 0 and it is served only on request). */
  stale: z.optional(z.boolean()),
};
/** A lease a read with `?lease=` granted (issue 13): a write carrying the token fills the entry. */
const lease = () => z.strictObject({ token: z.string(), ttlMs: z.int() });
export const entryBody = () =>
  z.strictObject({
    ...entryFields,
    /** A read with `?lease=` of a stale entry: the lease to refresh it, granted to one caller. */
    lease: z.optional(lease()),
  });

/** What a write answers: the entry's metadata after it (`ttl` null: a keepTtl write of an entry without expiry). */
const writeFields = {
  key: key(),
  version: z.int(),
  ttl: seconds(),
  createdAt: timestamp(),
  updatedAt: timestamp(),
  tags: z.array(z.string()),
  /** A write with grace (issue 13): its grace period in seconds. */
  grace: z.optional(z.int()),
};
export const writeBody = () =>
  z.strictObject({
    ...writeFields,
    /** With `durability: "replicated"`: how many replicas had the write when the answer was sent. */
    replication: z.optional(
      z.strictObject({ acknowledged: z.int(), requested: z.int(), connectedReplicas: z.int(), replicated: z.boolean() }),
    ),
  });

export const ttlBody = () =>
  z.strictObject({ key: key(), ttl: seconds(), grace: z.optional(z.int()), stale: z.optional(z.boolean()) });
export const invalidatedBody = () => z.strictObject({ invalidated: z.int() });

const itemError = () => z.strictObject({ code: z.string(), message: z.string(), details: z.optional(z.record(z.string(), z.unknown())) });
export const batchGetAnswer = () =>
  z.strictObject({
    items: z.array(
      z.union([
        z.strictObject({ found: z.literal(true), ...entryFields }),
        z.strictObject({ key: key(), found: z.literal(false), error: z.optional(itemError()) }),
      ]),
    ),
  });
export const batchSetAnswer = () =>
  z.strictObject({
    items: z.array(z.union([z.strictObject({ ...writeFields, created: z.boolean() }), z.strictObject({ key: key(), error: itemError() })])),
  });
export const batchDeleteAnswer = () => z.strictObject({ items: z.array(z.strictObject({ key: key(), deleted: z.boolean() })) });

// --- Data structures ---
export const sizeBody = () => z.strictObject({ key: key(), size: z.int() });
export const upsertBody = () =>
  z.strictObject({ key: key(), added: z.int(), updated: z.int(), size: z.int(), ttl: seconds() });
export const removedBody = () => z.strictObject({ key: key(), removed: z.int(), size: z.int() });
export const listRangeBody = () => z.strictObject({ key: key(), values: z.array(json()), size: z.int(), ttl: seconds() });
export const listPushBody = () => z.strictObject({ key: key(), size: z.int(), ttl: seconds() });
export const listPopBody = () => z.strictObject({ key: key(), values: z.array(json()), size: z.int() });
export const setMembersAnswer = () => z.strictObject({ key: key(), members: z.array(json()), size: z.int(), ttl: seconds() });
export const setAddBody = () => z.strictObject({ key: key(), added: z.int(), size: z.int(), ttl: seconds() });
export const setPopAnswer = () => z.strictObject({ key: key(), members: z.array(json()), size: z.int() });
export const containsBody = () => z.strictObject({ key: key(), results: z.array(z.boolean()) });
export const hashBody = () => z.strictObject({ key: key(), fields: z.record(z.string(), json()), size: z.int(), ttl: seconds() });
export const hashFieldsAnswer = () => z.strictObject({ key: key(), fields: z.record(z.string(), json()), missing: z.array(z.string()) });
export const hashIncrementAnswer = () => z.strictObject({ key: key(), field: z.string(), value: z.int(), ttl: seconds() });
/** Bare members, or `{member, score}` pairs with `withScores=true`. */
export const zsetRangeBody = () =>
  z.strictObject({
    key: key(),
    members: z.array(z.union([z.strictObject({ member: json(), score: z.number() }), json()])),
    size: z.int(),
    ttl: seconds(),
  });
export const zsetRankAnswer = () => z.strictObject({ key: key(), member: json(), rank: z.nullable(z.int()), score: z.nullable(z.number()) });
export const zsetScoresBody = () => z.strictObject({ key: key(), scores: z.array(z.nullable(z.number())) });
export const zsetIncrementAnswer = () => z.strictObject({ key: key(), member: json(), score: z.number(), ttl: seconds() });
export const zsetCountBody = () => z.strictObject({ key: key(), count: z.int() });
export const counterBody = () =>
  z.strictObject({ key: key(), value: z.int(), version: z.int(), ttl: seconds(), createdAt: timestamp(), updatedAt: timestamp(), tags: z.array(z.string()) });
export const counterReadBody = () => entryBody();

// --- Topics ---
export const publishAnswer = () => z.strictObject({ id: z.string() });
export const topicReadBody = () =>
  z.strictObject({ messages: z.array(z.strictObject({ id: z.string(), data: json() })), next: z.nullable(z.string()), missed: z.boolean() });

// --- Stats ---
const familyCounts = () => z.record(z.string(), z.strictObject({ hits: z.int(), misses: z.int(), hitRatio: z.nullable(z.number()) }));
const countFields = { hits: z.int(), misses: z.int(), hitRatio: z.nullable(z.number()), families: familyCounts() };
const redisStats = () =>
  z.strictObject({
    source: z.literal('redis'),
    ...countFields,
    freshness: z.string(),
    redis: z.strictObject({
      nodes: z.int(),
      keys: z.int(),
      usedMemoryBytes: z.int(),
      maxMemoryBytes: z.int(),
      evictionPolicy: z.string(),
      evictedKeys: z.int(),
      expiredKeys: z.int(),
      connectedClients: z.int(),
      opsPerSecond: z.int(),
      uptimeSeconds: z.int(),
    }),
  });
const figure = () => z.nullable(z.number());
const fleetStats = () =>
  z.strictObject({
    source: z.literal('cloudwatch'),
    window: z.string(),
    from: timestamp(),
    to: timestamp(),
    freshness: z.string(),
    ...countFields,
    cache: z.strictObject({
      nodes: z.int(),
      nodesReported: z.int(),
      maxCpuPercent: figure(),
      maxEngineCpuPercent: figure(),
      maxMemoryPercent: figure(),
      evictions: z.number(),
      connections: z.number(),
      maxReplicationLagSeconds: figure(),
      perNode: z.array(
        z.strictObject({
          id: z.string(),
          cpuPercent: figure(),
          engineCpuPercent: figure(),
          memoryPercent: figure(),
          evictions: figure(),
          connections: figure(),
          replicationLagSeconds: figure(),
        }),
      ),
    }),
    exactCounts: z.optional(z.strictObject({ since: z.string(), ...countFields })),
  });
/** Locally the counts and Redis INFO; deployed CloudWatch's figures. */
export const statsBody = () => z.union([redisStats(), fleetStats()]);

// --- Errors ---

/** Every error code an answer may carry: the domain's (core/errors.ts) and those of the HTTP fronts. */
export const ERROR_CODES = [
  'BAD_REQUEST',
  'INVALID_KEY',
  'VALIDATION_FAILED',
  'INVALID_JSON',
  'NOT_FOUND',
  'ROUTE_NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'NOT_ACCEPTABLE',
  'CONFLICT',
  'VERSION_CONFLICT',
  'LEASE_CONFLICT',
  'FILLING',
  'WRONG_TYPE',
  'PRECONDITION_FAILED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'OUT_OF_MEMORY',
  'UNAVAILABLE',
  'INTERNAL',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'REQUEST_TIMEOUT',
  'HEADERS_TOO_LARGE',
] as const satisfies readonly (CacheErrorCode | 'UNAUTHORIZED' | 'FORBIDDEN' | 'REQUEST_TIMEOUT' | 'HEADERS_TOO_LARGE')[];
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The status of each code: the domain's (results.ts) and the fronts' own. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  ...STATUS_OF,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  REQUEST_TIMEOUT: 408,
  HEADERS_TOO_LARGE: 431,
};

/** The JSON error model, its code one of `codes`. */
export const errorModel = (codes: readonly ErrorCode[] = ERROR_CODES) =>
  z.strictObject({
    error: z.strictObject({
      code: z.enum(codes as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      /** Machine-readable facts: currentVersion/expectedVersion, limit/size, actualType/expectedType, index, field. */
      details: z.optional(z.record(z.string(), z.unknown())),
    }),
  });
