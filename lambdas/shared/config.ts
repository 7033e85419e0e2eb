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
  /**
   * Where each process publishes the hits and misses it counts (lambdas/metrics/hit-counts.ts): a comma list of
   * `metrics` (CloudWatch, EMF) and `redis` (exact counts), or `off`. Default: `metrics` in Lambda, else `redis`.
   */
  HIT_COUNTS: z
    .string()
    .regex(/^\s*(off|(metrics|redis)(\s*,\s*(metrics|redis))*)?\s*$/, 'a comma list of metrics and redis, or off')
    .optional(),
  /**
   * The ElastiCache node ids (CacheClusterId, comma-separated) of the deployed cache: set on the stats function, which
   * then reads the fleet's figures from CloudWatch instead of Redis.
   */
  CACHE_NODE_IDS: z.string().optional(),
});

export type HitSinkName = 'metrics' | 'redis';

export type RuntimeConfig = {
  defaultTtlSeconds: number;
  maxTtlSeconds: number;
  maxValueBytes: number;
  redisTimeoutMs: number;
  retryAfterSeconds: number;
  hitSinks: HitSinkName[];
  /** Empty unless deployed (see CACHE_NODE_IDS). */
  cacheNodeIds: string[];
};

function hitSinksOf(raw: string | undefined, inLambda: boolean): HitSinkName[] {
  const list = raw?.trim();
  if (!list) return inLambda ? ['metrics'] : ['redis'];
  if (list === 'off') return [];
  return [...new Set(list.split(',').map((s) => s.trim() as HitSinkName))];
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
  return {
    defaultTtlSeconds: c.DEFAULT_TTL_SECONDS,
    maxTtlSeconds: c.MAX_TTL_SECONDS,
    maxValueBytes: c.MAX_VALUE_BYTES,
    redisTimeoutMs: c.REDIS_TIMEOUT_MS,
    retryAfterSeconds: c.RETRY_AFTER_SECONDS,
    hitSinks: hitSinksOf(c.HIT_COUNTS, !!env.AWS_LAMBDA_FUNCTION_NAME),
    cacheNodeIds: (c.CACHE_NODE_IDS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
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
