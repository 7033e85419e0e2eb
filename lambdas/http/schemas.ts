import * as z from '../core/zod';

/**
 * One schema per request. The handlers validate with these; the CDK API construct turns the body schemas into
 * API Gateway models (toGatewaySchema) and docs/api.md is written from the same route table.
 * Written with zod's `zod/mini` API (see lambdas/core/zod.ts).
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

/** The limits a deployment configures (the rest keep their defaults): the handlers and API Gateway use the same. */
export function schemaLimitsOf(config: Pick<SchemaLimits, 'maxTtlSeconds' | 'maxKeyBytes' | 'maxInvalidateKeys'>): SchemaLimits {
  return {
    ...DEFAULT_SCHEMA_LIMITS,
    maxTtlSeconds: config.maxTtlSeconds,
    maxKeyBytes: config.maxKeyBytes,
    maxInvalidateKeys: config.maxInvalidateKeys,
  };
}

/** The batch and tag limits, defaulted. */
export function semanticsLimits(limits: SchemaLimits) {
  return {
    maxBatchItems: limits.maxBatchItems ?? 100,
    maxTags: limits.maxTags ?? 10,
    maxTagBytes: limits.maxTagBytes ?? 128,
  };
}

/** A lone surrogate has no UTF-8 form: Redis would store U+FFFD, and the text would not read back as sent. */
const isWellFormed = (s: string) => !/[\uD800-\uDFFF]/.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''));

/** Text of at most `maxBytes` bytes of UTF-8 that has a UTF-8 form: keys, tags and hash field names. */
function utf8Text(maxBytes: number, options: { nonEmpty?: boolean } = {}) {
  const tooLong = `must be at most ${maxBytes} bytes of UTF-8`;
  return z.string({ error: 'must be a string' }).check(
    ...(options.nonEmpty ? [z.minLength(1, 'must not be empty')] : []),
    // maxLength bounds characters for API Gateway; the refinement bounds bytes exactly.
    z.maxLength(maxBytes, tooLong),
    z.refine((s: string) => Buffer.byteLength(s, 'utf8') <= maxBytes, { message: tooLong }),
    z.refine(isWellFormed, { message: 'must be valid UTF-8 (no lone surrogates)' }),
  );
}

export function keySchema(limits: SchemaLimits) {
  return utf8Text(limits.maxKeyBytes, { nonEmpty: true });
}

/** Most arrays and objects nested in one another in a value: deeper ones could not be read back as JSON. */
export const MAX_VALUE_DEPTH = 128;

/**
 * Why a JSON value cannot be kept exactly as sent, if it cannot: a number JSON.parse could not hold (1e400 became
 * Infinity, which JSON would write as null; 12345678901234567890 was rounded) or nesting past MAX_VALUE_DEPTH.
 * Iterative, so a value nested 100,000 levels deep is refused rather than overflowing the stack.
 */
export function valueProblem(value: unknown): { path: PropertyKey[]; message: string } | undefined {
  const pending: [unknown, PropertyKey[]][] = [[value, []]];
  while (pending.length) {
    const [v, path] = pending.pop()!;
    if (typeof v === 'number') {
      if (!Number.isFinite(v) || Math.abs(v) > Number.MAX_SAFE_INTEGER) {
        return {
          path,
          message: 'numbers must be finite and within ±9007199254740991 (2^53-1) to read back exactly; send larger ones as strings',
        };
      }
    } else if (v !== null && typeof v === 'object') {
      if (path.length >= MAX_VALUE_DEPTH) {
        return { path: path.slice(0, 4), message: `nests arrays and objects more than ${MAX_VALUE_DEPTH} levels deep` };
      }
      for (const [k, child] of Object.entries(v)) pending.push([child, [...path, Array.isArray(v) ? Number(k) : k]]);
    }
  }
  return undefined;
}

/** A value as it is stored: any JSON value that reads back exactly as sent (see valueProblem). */
export const storableValue = () =>
  z.unknown().check(
    z.superRefine((v, ctx) => {
      const problem = valueProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
    }),
  );

export function ttlSchema(limits: SchemaLimits) {
  return z
    .number({ error: 'must be a whole number of seconds' })
    .check(
      z.int('must be a whole number of seconds'),
      z.minimum(1, 'must be at least 1 second'),
      z.maximum(limits.maxTtlSeconds, `must be at most ${limits.maxTtlSeconds} seconds`),
    );
}

export function tagSchema(limits: SchemaLimits) {
  return utf8Text(semanticsLimits(limits).maxTagBytes, { nonEmpty: true });
}

/** Tags of one entry: a write replaces the entry's tags (none given = none kept). */
export function entryTagsSchema(limits: SchemaLimits) {
  const { maxTags } = semanticsLimits(limits);
  // Duplicates are kept once, so the limit counts distinct tags (API Gateway's model bounds the array at 10 times it).
  return z
    .array(tagSchema(limits))
    .check(
      z.maxLength(maxTags * 10, { error: `must list at most ${maxTags} distinct tags` }),
      z.refine<string[]>((tags) => new Set(tags).size <= maxTags, { message: `must list at most ${maxTags} distinct tags` }),
    );
}

/** What one entry write carries besides its key, alone (POST /cache, PUT /cache/{key}) or as a batch item. */
const entryWriteShape = (limits: SchemaLimits) => ({
  /** Any JSON value, null included (a stored null is a hit: negative caching). */
  value: storableValue(),
  ttl: z.optional(ttlSchema(limits)),
  /** Keep the replaced entry's expiry, as Redis's KEEPTTL (a new entry gets the default TTL). */
  keepTtl: z.optional(z.literal(true, { error: 'must be true when given' })),
  tags: z.optional(entryTagsSchema(limits)),
});

const ttlOrKeepTtl = z.refine<{ ttl?: number; keepTtl?: true }>((b) => !(b.ttl !== undefined && b.keepTtl), {
  message: 'give "ttl" or "keepTtl", not both',
});

/** The conditions and durability of a single write. */
const singleWriteShape = {
  /** Write only when the key holds nothing (else 409 CONFLICT). */
  ifAbsent: z.optional(z.literal(true, { error: 'must be true when given' })),
  /** Write only when the key already holds an entry (else 404 NOT_FOUND). */
  ifPresent: z.optional(z.literal(true, { error: 'must be true when given' })),
  /** Write only when the stored version is exactly this one (else 409 VERSION_CONFLICT). */
  ifVersion: z.optional(
    z.number({ error: 'must be a whole number' }).check(z.int('must be a whole number'), z.minimum(1, 'must be at least 1')),
  ),
  /** `replicated`: answer after a replica has the write too (WAIT), or say it did not in time. */
  durability: z.optional(z.enum(['primary', 'replicated'], { error: 'must be "primary" or "replicated"' })),
};

const oneCondition = z.refine<{ ifAbsent?: true; ifPresent?: true; ifVersion?: number }>(
  (b) => [b.ifAbsent, b.ifPresent, b.ifVersion].filter((c) => c !== undefined).length <= 1,
  { message: 'give at most one of "ifAbsent", "ifPresent" and "ifVersion"' },
);

/** POST /cache: the key in the body. */
export const setEntryBody = (limits: SchemaLimits) =>
  z.strictObject({ key: keySchema(limits), ...entryWriteShape(limits), ...singleWriteShape }).check(oneCondition, ttlOrKeepTtl);

/** PUT /cache/{key} and PUT /cache?key=: the key in the URL, the rest as for POST /cache. */
export const putEntryBody = (limits: SchemaLimits) =>
  z.strictObject({ ...entryWriteShape(limits), ...singleWriteShape }).check(oneCondition, ttlOrKeepTtl);

export const invalidateBody = (limits: SchemaLimits) =>
  z
    .strictObject({
      keys: z.optional(
        z
          .array(keySchema(limits))
          .check(
            z.minLength(1, 'must name at least one key'),
            z.maxLength(limits.maxInvalidateKeys, `must name at most ${limits.maxInvalidateKeys} keys`),
          ),
      ),
      prefix: z.optional(
        z.string({ error: 'must be a string' }).check(
          z.minLength(1, 'must not be empty (to drop every entry, name the prefix of your keys)'),
          z.maxLength(limits.maxKeyBytes, `must be at most ${limits.maxKeyBytes} bytes`),
          // Validated as keys are: a lone surrogate would become U+FFFD in Redis and match other keys.
          z.refine(isWellFormed, { message: 'must be valid UTF-8 (no lone surrogates)' }),
        ),
      ),
      tags: z.optional(
        z
          .array(tagSchema(limits))
          .check(
            z.minLength(1, 'must name at least one tag'),
            z.maxLength(semanticsLimits(limits).maxTags * 10, `must name at most ${semanticsLimits(limits).maxTags * 10} tags`),
          ),
      ),
    })
    .check(
      z.refine((b) => b.keys !== undefined || b.prefix !== undefined || b.tags !== undefined, {
        message: 'give "keys", "prefix", "tags" or several of them',
      }),
    );

function batchKeys(limits: SchemaLimits) {
  const { maxBatchItems } = semanticsLimits(limits);
  return z
    .array(keySchema(limits), { error: 'must be an array of keys' })
    .check(
      z.minLength(1, 'must name at least one key'),
      z.maxLength(maxBatchItems, `must name at most ${maxBatchItems} keys (the batch limit)`),
    );
}

export const batchGetBody = (limits: SchemaLimits) => z.strictObject({ keys: batchKeys(limits) });
export const batchDeleteBody = (limits: SchemaLimits) => z.strictObject({ keys: batchKeys(limits) });

export const batchSetBody = (limits: SchemaLimits) => {
  const { maxBatchItems } = semanticsLimits(limits);
  return z.strictObject({
    items: z
      .array(
        z.strictObject({ key: keySchema(limits), ...entryWriteShape(limits) }).check(ttlOrKeepTtl),
        { error: 'must be an array of {key, value, ttl?, keepTtl?, tags?}' },
      )
      .check(
        z.minLength(1, 'must hold at least one item'),
        z.maxLength(maxBatchItems, `must hold at most ${maxBatchItems} items (the batch limit)`),
      ),
  });
};

export const touchEntryBody = (limits: SchemaLimits) => z.strictObject({ ttl: ttlSchema(limits) });

/** Turns zod's issues into one readable sentence that names each offending field. */
export function describeIssues(error: z.core.$ZodError, input?: unknown): string {
  const valueAt = (path: PropertyKey[]) =>
    path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), input);
  const sentences = error.issues
    .map((issue) => {
      const where = issue.path.length ? issue.path.join('.') : 'body';
      if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      if (issue.code === 'invalid_type' && issue.path.length > 0 && valueAt(issue.path) === undefined) return `${where}: is required`;
      return `${where}: ${issue.message}`;
    });
  // One problem may break two checks (a key too long in characters and in bytes): each is said once.
  return [...new Set(sentences)].join('; ');
}

/** The JSON Schema (draft 4, as API Gateway models take it) of a request schema. */
export function toGatewaySchema(schema: z.core.$ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'draft-04', io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return json;
}

// --- Data structures (lists, sets, hashes, sorted sets, counters); see docs/data-structures.md ---

/** Most values, members or fields one data-structure request may carry. */
export const MAX_ELEMENTS_PER_REQUEST = 1000;
/** Longest hash field name, in UTF-8 bytes. */
export const MAX_FIELD_NAME_BYTES = 1024;

/** Any JSON value, null included; present (a missing one is reported as required). */
const jsonValue = () => storableValue().check(z.refine((v) => v !== undefined, { message: 'is required' }));

const elements = (what: string) =>
  z
    .array(jsonValue(), { error: `must be an array of ${what}` })
    .check(
      z.minLength(1, `must hold at least one of the ${what}`),
      z.maxLength(MAX_ELEMENTS_PER_REQUEST, `must hold at most ${MAX_ELEMENTS_PER_REQUEST} ${what}`),
    );

const fieldName = () => utf8Text(MAX_FIELD_NAME_BYTES);

const listEnd = () => z.enum(['left', 'right'], { error: 'must be "left" or "right"' });
const popCount = () =>
  z
    .number({ error: 'must be a whole number' })
    .check(
      z.int('must be a whole number'),
      z.minimum(1, 'must be at least 1'),
      z.maximum(MAX_ELEMENTS_PER_REQUEST, `must be at most ${MAX_ELEMENTS_PER_REQUEST}`),
    );
const index = () => z.number({ error: 'must be a whole number' }).check(z.int('must be a whole number (negative counts from the end)'));
const safeInteger = () => z.number({ error: 'must be a whole number' }).check(z.int('must be a whole number within ±(2^53-1)'));
/** JSON cannot carry NaN or Infinity, and 1e999 parses to Infinity: z.number() refuses that. */
const score = () => z.number({ error: 'must be a finite number' });

export const listPushBody = (limits: SchemaLimits) =>
  z.strictObject({ values: elements('values'), end: z.optional(listEnd()), ttl: z.optional(ttlSchema(limits)) });
export const listPopBody = () => z.strictObject({ end: z.optional(listEnd()), count: z.optional(popCount()) });
export const listTrimBody = () => z.strictObject({ start: index(), stop: index() });

export const setMembersBody = (limits: SchemaLimits) =>
  z.strictObject({ members: elements('members'), ttl: z.optional(ttlSchema(limits)) });
/** Remove and is-member: members without a TTL. */
export const membersBody = () => z.strictObject({ members: elements('members') });
export const setPopBody = () => z.strictObject({ count: z.optional(popCount()) });

/**
 * Field names to JSON values. Not z.record: it drops a "__proto__" key without a word, and Redis has no reason to
 * refuse that name. The meta gives API Gateway the same object model a record would.
 */
const hashFields = () =>
  z
    .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), {
      message: 'must be an object of field names to JSON values',
    })
    .check(
      z.superRefine((fields, ctx) => {
      const names = Object.keys(fields);
      if (names.length < 1) ctx.addIssue({ code: 'custom', message: 'must name at least one field' });
      if (names.length > MAX_ELEMENTS_PER_REQUEST) {
        ctx.addIssue({ code: 'custom', message: `must name at most ${MAX_ELEMENTS_PER_REQUEST} fields` });
      }
      for (const name of names) {
        const problem = valueProblem(fields[name]);
        if (problem) ctx.addIssue({ code: 'custom', path: [name, ...problem.path], message: problem.message });
        if (Buffer.byteLength(name, 'utf8') > MAX_FIELD_NAME_BYTES) {
          ctx.addIssue({ code: 'custom', path: [name.slice(0, 32)], message: `field names must be at most ${MAX_FIELD_NAME_BYTES} bytes of UTF-8` });
        } else if (!isWellFormed(name)) {
          ctx.addIssue({ code: 'custom', path: [name], message: 'field names must be valid UTF-8 (no lone surrogates)' });
        }
      }
      }),
      z.meta({ type: 'object', additionalProperties: {}, minProperties: 1, maxProperties: MAX_ELEMENTS_PER_REQUEST }),
    );

export const hashSetBody = (limits: SchemaLimits) =>
  z.strictObject({ fields: hashFields(), ttl: z.optional(ttlSchema(limits)) });
export const hashFieldsBody = () =>
  z.strictObject({
    fields: z
      .array(fieldName(), { error: 'must be an array of field names' })
      .check(
        z.minLength(1, 'must name at least one field'),
        z.maxLength(MAX_ELEMENTS_PER_REQUEST, `must name at most ${MAX_ELEMENTS_PER_REQUEST} fields`),
      ),
  });
export const hashIncrementBody = (limits: SchemaLimits) =>
  z.strictObject({ field: fieldName(), by: z.optional(safeInteger()), ttl: z.optional(ttlSchema(limits)) });

export const zsetAddBody = (limits: SchemaLimits) =>
  z.strictObject({
    members: z
      .array(z.strictObject({ member: jsonValue(), score: score() }), { error: 'must be an array of {member, score}' })
      .check(
        z.minLength(1, 'must hold at least one member'),
        z.maxLength(MAX_ELEMENTS_PER_REQUEST, `must hold at most ${MAX_ELEMENTS_PER_REQUEST} members`),
      ),
    nx: z.optional(z.boolean({ error: 'must be true or false' })),
    xx: z.optional(z.boolean({ error: 'must be true or false' })),
    gt: z.optional(z.boolean({ error: 'must be true or false' })),
    lt: z.optional(z.boolean({ error: 'must be true or false' })),
    ttl: z.optional(ttlSchema(limits)),
  });
export const zsetRankBody = () =>
  z.strictObject({ member: jsonValue(), reverse: z.optional(z.boolean({ error: 'must be true or false' })) });
export const zsetIncrementBody = (limits: SchemaLimits) =>
  z.strictObject({ member: jsonValue(), by: score(), ttl: z.optional(ttlSchema(limits)) });

export const counterBody = (limits: SchemaLimits) =>
  z.strictObject({ by: z.optional(safeInteger()), ttl: z.optional(ttlSchema(limits)) });

/** POST /topics/{topic}/messages: `message` is any JSON value (its size is checked against the configured limit). */
export const publishBody = () =>
  z
    .strictObject({ message: z.unknown() })
    .check(z.refine((b) => b.message !== undefined, { message: '"message" is required (any JSON value)', path: ['message'] }));
