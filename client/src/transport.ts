import { SkycacheError } from './errors.js';

/** A request as the signer sees it (the body is the exact text sent). */
export interface SignableRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/**
 * Adds authentication headers to a request just before it is sent (each retry is signed again): e.g. SigV4 for
 * a deployment with authMode=iam (`sigV4Signer` from '@skycache/client/sigv4').
 */
export type Signer = (request: SignableRequest) => Promise<Record<string, string>> | Record<string, string>;

export interface RetryOptions {
  /** Most attempts per call, the first included (default 3; 1 = no retry). */
  attempts?: number;
  /** First backoff ceiling in ms (default 50); it doubles per retry up to maxDelayMs. */
  baseDelayMs?: number;
  /** Longest wait between attempts in ms (default 2000), a Retry-After included. */
  maxDelayMs?: number;
}

export interface TransportOptions {
  /** The API's base URL, e.g. http://127.0.0.1:3000 (npm start) or the stage URL of a deployment. */
  baseUrl: string;
  /** Sent as x-api-key (the service front's key, or API Gateway's). */
  apiKey?: string;
  sign?: Signer;
  /** Per-call time limit in ms, all attempts included (default 10000). */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** The fetch to use (default globalThis.fetch). */
  fetch?: typeof fetch;
}

/** Per call: a timeout, an AbortSignal, and extra headers. */
export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  /** The parsed JSON body (undefined for 204/304 and empty bodies). */
  body: unknown;
}

/** Statuses worth another attempt: the server (or API Gateway) asks the client to come back later. */
const RETRIED = new Set([429, 503]);

/**
 * The wait before retry `retry` (1 = the first retry): the server's Retry-After when it gave one (seconds or an
 * HTTP date), else "full jitter" exponential backoff — a uniform draw below base·2^(retry-1) — capped at maxDelayMs.
 */
export function retryDelayMs(retry: number, retryAfter: string | null, options: RetryOptions = {}, random = Math.random): number {
  const max = options.maxDelayMs ?? 2000;
  if (retryAfter !== null && retryAfter.trim() !== '') {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
    // A little jitter on top, so clients told the same Retry-After do not all come back in the same millisecond.
    if (Number.isFinite(ms)) return Math.min(max, Math.max(0, ms) + random() * 50);
  }
  const ceiling = Math.min(max, (options.baseDelayMs ?? 50) * 2 ** (retry - 1));
  return random() * ceiling;
}

/** A signal that aborts with the caller's signal or when `timeoutMs` passes, whichever is first. */
function callSignal(timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** HTTP to the API: JSON in and out, auth headers, per-call timeouts, bounded retries on 503/429. */
export class Transport {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(readonly options: TransportOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /**
   * Sends one API request and answers the parsed response for any 2xx, 304 or an `accept`ed status; any other
   * status throws a SkycacheError with the server's code. 503 and 429 are retried (every route: a 503 from the
   * service means the request did not run, or, for a write after a Redis timeout, may have; writes are versioned
   * or idempotent replacements, so a repeat is safe) within `retry.attempts` and the call's time limit.
   */
  async request(
    method: string,
    path: string,
    init: { body?: unknown; accept?: readonly number[] } & CallOptions = {},
  ): Promise<ApiAnswer> {
    const timeoutMs = init.timeoutMs ?? this.options.timeoutMs ?? 10_000;
    const signal = callSignal(timeoutMs, init.signal);
    const attempts = Math.max(1, this.options.retry?.attempts ?? 3);
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    const url = new URL(this.base + path);
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (this.options.apiKey) headers['x-api-key'] = this.options.apiKey;
      if (this.options.sign) Object.assign(headers, await this.options.sign({ method, url, headers: { ...headers }, body }));
      let response: Response;
      try {
        response = await this.fetch(url, { method, headers, body, signal });
      } catch (e) {
        throw this.failure(e, init.signal, timeoutMs, attempt);
      }
      if (RETRIED.has(response.status) && attempt < attempts) {
        const wait = retryDelayMs(attempt, response.headers.get('retry-after'), this.options.retry);
        // Drain the body so the connection goes back to the pool.
        await response.arrayBuffer().catch(() => undefined);
        try {
          await sleep(wait, signal);
        } catch (e) {
          throw this.failure(e, init.signal, timeoutMs, attempt);
        }
        continue;
      }
      let text: string;
      try {
        text = await response.text();
      } catch (e) {
        throw this.failure(e, init.signal, timeoutMs, attempt);
      }
      let parsed: unknown;
      if (text) {
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new SkycacheError('BAD_RESPONSE', `${method} ${path}: answer ${response.status} is not JSON`, response.status, undefined, requestIdOf(response), attempt);
        }
      }
      const ok = (response.status >= 200 && response.status < 300) || response.status === 304 || init.accept?.includes(response.status);
      if (ok) return { status: response.status, headers: response.headers, body: parsed };
      throw errorOf(response, parsed, method, path, attempt);
    }
  }

  private failure(e: unknown, callerSignal: AbortSignal | undefined, timeoutMs: number, attempts: number): SkycacheError {
    if (callerSignal?.aborted) return new SkycacheError('ABORTED', 'the call was aborted by its AbortSignal', 0, undefined, undefined, attempts, { cause: e });
    if ((e as Error)?.name === 'TimeoutError' || (e as Error)?.name === 'AbortError') {
      return new SkycacheError('TIMEOUT', `no answer within the call's ${timeoutMs} ms`, 0, undefined, undefined, attempts, { cause: e });
    }
    return new SkycacheError('NETWORK', `no HTTP answer: ${(e as Error)?.message ?? String(e)}`, 0, undefined, undefined, attempts, { cause: e });
  }
}

function requestIdOf(response: Response): string | undefined {
  return response.headers.get('x-request-id') ?? undefined;
}

/** The API's error model `{error: {code, message, details?}}` as a SkycacheError. */
export function errorOf(response: Response, body: unknown, method: string, path: string, attempts: number): SkycacheError {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  if (error && typeof error.code === 'string') {
    return new SkycacheError(
      error.code,
      typeof error.message === 'string' ? error.message : error.code,
      response.status,
      error.details && typeof error.details === 'object' ? (error.details as Record<string, unknown>) : undefined,
      requestIdOf(response),
      attempts,
    );
  }
  // API Gateway's own answers ({"message": "..."}), e.g. its throttling 429.
  const message = (body as { message?: unknown } | undefined)?.message;
  const code = response.status === 429 ? 'TOO_MANY_REQUESTS' : response.status === 403 ? 'FORBIDDEN' : `HTTP_${response.status}`;
  return new SkycacheError(code, `${method} ${path}: ${typeof message === 'string' ? message : `HTTP ${response.status}`}`, response.status, undefined, requestIdOf(response), attempts);
}
