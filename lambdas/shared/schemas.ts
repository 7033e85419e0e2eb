import * as z from 'zod';

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
}

export const DEFAULT_SCHEMA_LIMITS: SchemaLimits = {
  maxTtlSeconds: 30 * 24 * 3600,
  maxKeyBytes: 1024,
  maxInvalidateKeys: 1000,
};

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

export const setEntryBody = (limits: SchemaLimits) =>
  z.strictObject({
    key: keySchema(limits),
    /** Any JSON value, null included (a stored null is a hit: negative caching). */
    value: z.unknown(),
    ttl: ttlSchema(limits).optional(),
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
    })
    .refine((b) => b.keys !== undefined || b.prefix !== undefined, { message: 'give "keys", "prefix" or both' });

export type SetEntryBody = z.infer<ReturnType<typeof setEntryBody>>;
export type InvalidateBody = z.infer<ReturnType<typeof invalidateBody>>;

/** Turns zod's issues into one readable sentence that names each offending field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length ? issue.path.join('.') : 'body';
      if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      if (issue.code === 'invalid_type' && issue.input === undefined) return `${where}: is required`;
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
