import { z } from 'zod';

/**
 * One schema per request. The handlers validate with these; the CDK API construct turns the body schemas into
 * API Gateway models (toGatewaySchema) and docs/api.md is written from the same route table.
 */
export interface SchemaLimits {
  maxTtlSeconds: number;
  /** Longest key in UTF-8 bytes. */
  maxKeyBytes: number;
  /** Most keys one invalidate request may name. */
  maxInvalidateKeys: number;
  /** Most items (keys or entries) in one batch request (default 100). */
  maxBatchItems?: number;
  /** Most tags on one entry (default 10), and in one invalidate request (10 times as many). */
  maxTags?: number;
  /** Longest tag in UTF-8 bytes (default 128). */
  maxTagBytes?: number;
}

export const DEFAULT_SCHEMA_LIMITS: SchemaLimits = {
  maxTtlSeconds: 30 * 24 * 3600,
  maxKeyBytes: 1024,
  maxInvalidateKeys: 1000,
  maxBatchItems: 100,
  maxTags: 10,
  maxTagBytes: 128,
};

/** The batch and tag limits, defaulted. */
export function semanticsLimits(limits: SchemaLimits) {
  return {
    maxBatchItems: limits.maxBatchItems ?? 100,
    maxTags: limits.maxTags ?? 10,
    maxTagBytes: limits.maxTagBytes ?? 128,
  };
}

export function keySchema(limits: SchemaLimits) {
  return z
    .string({ error: 'must be a string' })
    .min(1, 'must not be empty')
    // maxLength bounds characters for API Gateway; the refinement bounds bytes exactly.
    .max(limits.maxKeyBytes, `must be at most ${limits.maxKeyBytes} bytes of UTF-8`)
    .refine((k) => Buffer.byteLength(k, 'utf8') <= limits.maxKeyBytes, {
      message: `must be at most ${limits.maxKeyBytes} bytes of UTF-8`,
    })
    .refine((k) => !/[\uD800-\uDFFF]/.test(k.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '')), {
      message: 'must be valid UTF-8 (no lone surrogates)',
    });
}

export function ttlSchema(limits: SchemaLimits) {
  return z
    .number({ error: 'must be a whole number of seconds' })
    .int('must be a whole number of seconds')
    .min(1, 'must be at least 1 second')
    .max(limits.maxTtlSeconds, `must be at most ${limits.maxTtlSeconds} seconds`);
}

const noLoneSurrogates = (s: string) => !/[\uD800-\uDFFF]/.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''));

export function tagSchema(limits: SchemaLimits) {
  const { maxTagBytes } = semanticsLimits(limits);
  return z
    .string({ error: 'must be a string' })
    .min(1, 'must not be empty')
    .max(maxTagBytes, `must be at most ${maxTagBytes} bytes of UTF-8`)
    .refine((t) => Buffer.byteLength(t, 'utf8') <= maxTagBytes, { message: `must be at most ${maxTagBytes} bytes of UTF-8` })
    .refine(noLoneSurrogates, { message: 'must be valid UTF-8 (no lone surrogates)' });
}

/** Tags of one entry: a write replaces the entry's tags (none given = none kept). */
export function entryTagsSchema(limits: SchemaLimits) {
  const { maxTags } = semanticsLimits(limits);
  return z.array(tagSchema(limits)).max(maxTags, `must list at most ${maxTags} tags`);
}

export const setEntryBody = (limits: SchemaLimits) =>
  z
    .strictObject({
      key: keySchema(limits),
      /** Any JSON value, null included (a stored null is a hit: negative caching). */
      value: z.unknown(),
      ttl: ttlSchema(limits).optional(),
      tags: entryTagsSchema(limits).optional(),
      /** Write only when the key holds nothing (else 409 CONFLICT). */
      ifAbsent: z.literal(true, { error: 'must be true when given' }).optional(),
      /** Write only when the key already holds an entry (else 404 NOT_FOUND). */
      ifPresent: z.literal(true, { error: 'must be true when given' }).optional(),
      /** Write only when the stored version is exactly this one (else 409 VERSION_CONFLICT). */
      ifVersion: z.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').optional(),
      /** `replicated`: answer after a replica has the write too (WAIT), or say it did not in time. */
      durability: z.enum(['primary', 'replicated'], { error: 'must be "primary" or "replicated"' }).optional(),
    })
    .refine((b) => [b.ifAbsent, b.ifPresent, b.ifVersion].filter((c) => c !== undefined).length <= 1, {
      message: 'give at most one of "ifAbsent", "ifPresent" and "ifVersion"',
    });

export const invalidateBody = (limits: SchemaLimits) =>
  z
    .strictObject({
      keys: z.array(keySchema(limits)).min(1, 'must name at least one key').max(limits.maxInvalidateKeys, `must name at most ${limits.maxInvalidateKeys} keys`).optional(),
      prefix: z
        .string({ error: 'must be a string' })
        .min(1, 'must not be empty (to drop every entry, name the prefix of your keys)')
        .max(limits.maxKeyBytes, `must be at most ${limits.maxKeyBytes} bytes`)
        .optional(),
      tags: z
        .array(tagSchema(limits))
        .min(1, 'must name at least one tag')
        .max(semanticsLimits(limits).maxTags * 10, `must name at most ${semanticsLimits(limits).maxTags * 10} tags`)
        .optional(),
    })
    .refine((b) => b.keys !== undefined || b.prefix !== undefined || b.tags !== undefined, {
      message: 'give "keys", "prefix", "tags" or several of them',
    });

function batchKeys(limits: SchemaLimits) {
  const { maxBatchItems } = semanticsLimits(limits);
  return z
    .array(keySchema(limits), { error: 'must be an array of keys' })
    .min(1, 'must name at least one key')
    .max(maxBatchItems, `must name at most ${maxBatchItems} keys (the batch limit)`);
}

export const batchGetBody = (limits: SchemaLimits) => z.strictObject({ keys: batchKeys(limits) });
export const batchDeleteBody = (limits: SchemaLimits) => z.strictObject({ keys: batchKeys(limits) });

export const batchSetBody = (limits: SchemaLimits) => {
  const { maxBatchItems } = semanticsLimits(limits);
  return z.strictObject({
    items: z
      .array(
        z.strictObject({
          key: keySchema(limits),
          value: z.unknown(),
          ttl: ttlSchema(limits).optional(),
          tags: entryTagsSchema(limits).optional(),
        }),
        { error: 'must be an array of {key, value, ttl?, tags?}' },
      )
      .min(1, 'must hold at least one item')
      .max(maxBatchItems, `must hold at most ${maxBatchItems} items (the batch limit)`),
  });
};

export const touchEntryBody = (limits: SchemaLimits) => z.strictObject({ ttl: ttlSchema(limits) });

export type SetEntryBody = z.infer<ReturnType<typeof setEntryBody>>;
export type InvalidateBody = z.infer<ReturnType<typeof invalidateBody>>;
export type BatchSetBody = z.infer<ReturnType<typeof batchSetBody>>;

/** Turns zod's issues into one readable sentence that names each offending field. */
export function describeIssues(error: z.ZodError, input?: unknown): string {
  const valueAt = (path: PropertyKey[]) =>
    path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), input);
  return error.issues
    .map((issue) => {
      const where = issue.path.length ? issue.path.join('.') : 'body';
      if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      if (issue.code === 'invalid_type' && issue.path.length > 0 && valueAt(issue.path) === undefined) return `${where}: is required`;
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

/** The JSON Schema (draft 4, as API Gateway models take it) of a request schema. */
export function toGatewaySchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'draft-04', io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return json;
}
