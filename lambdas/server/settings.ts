import { availableParallelism } from 'node:os';
import * as z from 'zod';

/**
 * Settings of the production HTTP server (`front=service`, and `npm start`), read from the environment once per
 * process and validated, so a bad value stops the server at start with a message naming it. The routes' own
 * settings (TTLs, Redis deadline, Retry-After) stay in the runtime configuration the Lambda functions read too.
 */
const serverEnvSchema = z.object({
  /** Port to listen on (the container image sets 8080). */
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Interface to listen on: every interface in a container; `npm start` uses 127.0.0.1. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Worker processes; default one per CPU the process may use. */
  WORKERS: z.coerce.number().int().min(1).max(256).optional(),
  /** Requests one worker serves at once; past it, 503 + Retry-After at once instead of queueing behind the others. */
  MAX_IN_FLIGHT: z.coerce.number().int().min(1).default(512),
  /**
   * How long an idle keep-alive connection stays open. Above the load balancer's idle timeout (ALB: 60 s), so the
   * balancer, not the server, closes idle connections: a server closing first races a request the balancer is
   * already sending on that connection, and the client gets a 502.
   */
  KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1000).default(65_000),
  /** Longest time to receive a request's headers: a client that trickles headers (slowloris) is cut off. */
  HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1000).default(10_000),
  /** Longest time to receive a whole request, body included (API Gateway's own limit is 29 s). */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30_000),
  /** After SIGTERM/SIGINT, how long requests in flight may run on before their connections are cut. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  /** Share of requests written to the access log (0–1); a 5xx answer is always logged. */
  ACCESS_LOG_SAMPLE_RATE: z.coerce.number().min(0).max(1).default(0.01),
  /** How often each worker publishes its request metrics (CloudWatch embedded metric format on stdout). */
  METRICS_INTERVAL_MS: z.coerce.number().int().min(1000).default(60_000),
  /** Secrets Manager secret holding the API key hashes: JSON `{"sha256": ["<64 hex digits>", …]}`. */
  API_KEY_HASHES_SECRET_ARN: z.string().min(1).optional(),
  /** A file holding the API key hashes in the same JSON form (local use). */
  API_KEY_HASHES_FILE: z.string().min(1).optional(),
  /** The API key hashes, comma-separated hex SHA-256 digests (local use). */
  API_KEY_HASHES: z.string().min(1).optional(),
  /** How often the key hashes are read again (a rotated key takes effect without a restart). */
  API_KEY_REFRESH_MS: z.coerce.number().int().min(10_000).default(300_000),
});

export interface ServerSettings {
  port: number;
  host: string;
  workers: number;
  maxInFlight: number;
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  shutdownGraceMs: number;
  accessLogSampleRate: number;
  metricsIntervalMs: number;
  apiKeys: ApiKeySource;
  apiKeyRefreshMs: number;
}

/** Where the API key hashes come from; `none`: no key is required (local use only). */
export type ApiKeySource =
  | { kind: 'secret'; secretId: string }
  | { kind: 'file'; path: string }
  | { kind: 'inline'; text: string }
  | { kind: 'none' };

export function loadServerSettings(env: NodeJS.ProcessEnv = process.env): ServerSettings {
  const parsed = serverEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid skycache server configuration: ${problems}`);
  }
  const e = parsed.data;
  const sources = [e.API_KEY_HASHES_SECRET_ARN, e.API_KEY_HASHES_FILE, e.API_KEY_HASHES].filter((s) => s !== undefined);
  if (sources.length > 1) {
    throw new Error('invalid skycache server configuration: give one of API_KEY_HASHES_SECRET_ARN, API_KEY_HASHES_FILE, API_KEY_HASHES');
  }
  if (e.HEADERS_TIMEOUT_MS > e.REQUEST_TIMEOUT_MS) {
    throw new Error('invalid skycache server configuration: HEADERS_TIMEOUT_MS exceeds REQUEST_TIMEOUT_MS');
  }
  const apiKeys: ApiKeySource = e.API_KEY_HASHES_SECRET_ARN
    ? { kind: 'secret', secretId: e.API_KEY_HASHES_SECRET_ARN }
    : e.API_KEY_HASHES_FILE
      ? { kind: 'file', path: e.API_KEY_HASHES_FILE }
      : e.API_KEY_HASHES
        ? { kind: 'inline', text: e.API_KEY_HASHES }
        : { kind: 'none' };
  return {
    port: e.PORT,
    host: e.HOST,
    workers: e.WORKERS ?? availableParallelism(),
    maxInFlight: e.MAX_IN_FLIGHT,
    keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
    headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    accessLogSampleRate: e.ACCESS_LOG_SAMPLE_RATE,
    metricsIntervalMs: e.METRICS_INTERVAL_MS,
    apiKeys,
    apiKeyRefreshMs: e.API_KEY_REFRESH_MS,
  };
}
