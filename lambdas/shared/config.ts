import * as z from 'zod';

/**
 * Runtime settings of the handlers, read from the environment once per process. The CDK stack sets these
 * variables from its validated configuration; the local server sets them from its own environment.
 */
const runtimeConfigSchema = z.object({
  /** TTL applied when a write names none. */
  DEFAULT_TTL_SECONDS: z.coerce.number().int().min(1).default(3600),
  /** Largest TTL a client may ask for (default 30 days). */
  MAX_TTL_SECONDS: z.coerce.number().int().min(1).default(30 * 24 * 3600),
  /** Largest value, measured as the bytes of its JSON text (default 1 MiB). */
  MAX_VALUE_BYTES: z.coerce.number().int().min(1).default(1024 * 1024),
  /** How long a request may wait on Redis before it is answered 503 (default 2 s). */
  REDIS_TIMEOUT_MS: z.coerce.number().int().min(50).default(2000),
  /** Seconds a client is told to wait (Retry-After) after a 503. */
  RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).default(1),
  /** Largest pub/sub message, as the bytes of its JSON text (default 64 KiB). */
  TOPIC_MAX_MESSAGE_BYTES: z.coerce.number().int().min(1).max(1024 * 1024).default(64 * 1024),
  /** Messages a topic (and a change stream) keeps at most: older ones are trimmed at each append. */
  TOPIC_RETENTION_MESSAGES: z.coerce.number().int().min(1).max(10_000_000).default(10_000),
  /** Seconds a message is kept at most (default 24 h). */
  TOPIC_RETENTION_SECONDS: z.coerce.number().int().min(1).max(30 * 24 * 3600).default(24 * 3600),
  /** A topic with no message for this long is removed (default 7 days); a later resume is told it may have missed messages. */
  TOPIC_IDLE_SECONDS: z.coerce.number().int().min(1).max(365 * 24 * 3600).default(7 * 24 * 3600),
  /** Longest long-poll wait: API Gateway answers 504 after 29 s, so at most 25 s. */
  TOPIC_MAX_WAIT_SECONDS: z.coerce.number().int().min(0).max(25).default(20),
  /** `true`: entry writes, deletes, TTL changes and invalidations append a change event (docs/pubsub.md). */
  CHANGE_EVENTS: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
});

export type RuntimeConfig = {
  defaultTtlSeconds: number;
  maxTtlSeconds: number;
  maxValueBytes: number;
  redisTimeoutMs: number;
  retryAfterSeconds: number;
  topics: TopicSettings;
};

/** Pub/sub topics and change streams (docs/pubsub.md). */
export interface TopicSettings {
  maxMessageBytes: number;
  retentionMessages: number;
  retentionMs: number;
  idleMs: number;
  maxWaitMs: number;
  changeEvents: boolean;
}

export function loadRuntimeConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const parsed = runtimeConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid skycache runtime configuration: ${problems}`);
  }
  const c = parsed.data;
  if (c.DEFAULT_TTL_SECONDS > c.MAX_TTL_SECONDS) {
    throw new Error('invalid skycache runtime configuration: DEFAULT_TTL_SECONDS exceeds MAX_TTL_SECONDS');
  }
  if (c.TOPIC_IDLE_SECONDS < c.TOPIC_RETENTION_SECONDS) {
    throw new Error('invalid skycache runtime configuration: TOPIC_IDLE_SECONDS is shorter than TOPIC_RETENTION_SECONDS');
  }
  return {
    defaultTtlSeconds: c.DEFAULT_TTL_SECONDS,
    maxTtlSeconds: c.MAX_TTL_SECONDS,
    maxValueBytes: c.MAX_VALUE_BYTES,
    redisTimeoutMs: c.REDIS_TIMEOUT_MS,
    retryAfterSeconds: c.RETRY_AFTER_SECONDS,
    topics: {
      maxMessageBytes: c.TOPIC_MAX_MESSAGE_BYTES,
      retentionMessages: c.TOPIC_RETENTION_MESSAGES,
      retentionMs: c.TOPIC_RETENTION_SECONDS * 1000,
      idleMs: c.TOPIC_IDLE_SECONDS * 1000,
      maxWaitMs: c.TOPIC_MAX_WAIT_SECONDS * 1000,
      changeEvents: c.CHANGE_EVENTS === 'true',
    },
  };
}

let cached: RuntimeConfig | undefined;
/** The process-wide configuration; tests that change the environment call resetRuntimeConfig(). */
export function runtimeConfig(): RuntimeConfig {
  return (cached ??= loadRuntimeConfig());
}
export function resetRuntimeConfig(): void {
  cached = undefined;
}
