import { availableParallelism } from 'node:os';
import * as z from '../core/zod';
import { ENV } from '../core/config';

/**
 * Settings of the production HTTP server (`front=service`, and `npm start`), read from the environment (named in
 * the runtime contract, lambdas/core/config.ts ENV) and validated, so a bad value stops the server at start with a message naming it. The routes' own
 * settings (TTLs, Redis deadline, Retry-After) stay in the runtime configuration the Lambda functions read too.
 */
const serverEnvSchema = z.object({
  /** Port to listen on (the container image sets 8080). */
  [ENV.localPort]: z._default(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(65535)), 8080),
  /** Interface to listen on: every interface in a container; `npm start` uses 127.0.0.1. */
  [ENV.localHost]: z._default(z.string().check(z.minLength(1)), '0.0.0.0'),
  /** Worker processes; default one per CPU the process may use. */
  [ENV.workers]: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(256))),
  /** Requests one worker serves at once; past it, 503 + Retry-After at once instead of queueing behind the others. */
  [ENV.maxInFlight]: z._default(z.coerce.number().check(z.int(), z.minimum(1)), 512),
  /**
   * How long an idle keep-alive connection stays open. Above the load balancer's idle timeout (ALB: 60 s), so the
   * balancer, not the server, closes idle connections: a server closing first races a request the balancer is
   * already sending on that connection, and the client gets a 502.
   */
  [ENV.keepAliveTimeoutMs]: z._default(z.coerce.number().check(z.int(), z.minimum(1000)), 65_000),
  /** Longest time to receive a request's headers: a client that trickles headers (slowloris) is cut off. */
  [ENV.headersTimeoutMs]: z._default(z.coerce.number().check(z.int(), z.minimum(1000)), 10_000),
  /** Longest time to receive a whole request, body included (API Gateway's own limit is 29 s). */
  [ENV.requestTimeoutMs]: z._default(z.coerce.number().check(z.int(), z.minimum(1000)), 30_000),
  /** After SIGTERM/SIGINT, how long requests in flight may run on before their connections are cut. */
  [ENV.shutdownGraceMs]: z._default(z.coerce.number().check(z.int(), z.minimum(0)), 10_000),
  /** Share of requests written to the access log (0–1); a 5xx answer is always logged. */
  [ENV.accessLogSampleRate]: z._default(z.coerce.number().check(z.minimum(0), z.maximum(1)), 0.01),
  /** How often each worker publishes its request metrics (CloudWatch embedded metric format on stdout). */
  [ENV.metricsIntervalMs]: z._default(z.coerce.number().check(z.int(), z.minimum(1000)), 60_000),
  /** Secrets Manager secret holding the API key hashes: JSON `{"sha256": ["<64 hex digits>", …]}`. */
  [ENV.apiKeyHashesSecretArn]: z.optional(z.string().check(z.minLength(1))),
  /** A file holding the API key hashes in the same JSON form (local use). */
  [ENV.apiKeyHashesFile]: z.optional(z.string().check(z.minLength(1))),
  /** The API key hashes, comma-separated hex SHA-256 digests (local use). */
  [ENV.apiKeyHashes]: z.optional(z.string().check(z.minLength(1))),
  /** How often the key hashes are read again (a rotated key takes effect without a restart). */
  [ENV.apiKeyRefreshMs]: z._default(z.coerce.number().check(z.int(), z.minimum(10_000)), 300_000),
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
  if ([e[ENV.apiKeyHashesSecretArn], e[ENV.apiKeyHashesFile], e[ENV.apiKeyHashes]].filter((v) => v !== undefined).length > 1) {
    throw new Error('invalid skycache server configuration: give one of API_KEY_HASHES_SECRET_ARN, API_KEY_HASHES_FILE, API_KEY_HASHES');
  }
  if (e[ENV.headersTimeoutMs] > e[ENV.requestTimeoutMs]) {
    throw new Error('invalid skycache server configuration: HEADERS_TIMEOUT_MS exceeds REQUEST_TIMEOUT_MS');
  }
  const secretId = e[ENV.apiKeyHashesSecretArn];
  const file = e[ENV.apiKeyHashesFile];
  const inline = e[ENV.apiKeyHashes];
  const apiKeys: ApiKeySource = secretId
    ? { kind: 'secret', secretId }
    : file
      ? { kind: 'file', path: file }
      : inline
        ? { kind: 'inline', text: inline }
        : { kind: 'none' };
  return {
    port: e[ENV.localPort],
    host: e[ENV.localHost],
    workers: e[ENV.workers] ?? availableParallelism(),
    maxInFlight: e[ENV.maxInFlight],
    keepAliveTimeoutMs: e[ENV.keepAliveTimeoutMs],
    headersTimeoutMs: e[ENV.headersTimeoutMs],
    requestTimeoutMs: e[ENV.requestTimeoutMs],
    shutdownGraceMs: e[ENV.shutdownGraceMs],
    accessLogSampleRate: e[ENV.accessLogSampleRate],
    metricsIntervalMs: e[ENV.metricsIntervalMs],
    apiKeys,
    apiKeyRefreshMs: e[ENV.apiKeyRefreshMs],
  };
}
