import type { CacheErrorCode } from '../../lambdas/core/errors.js';

/**
 * The codes a SkycacheError carries: every code the server answers (its error model, lambdas/core/errors.ts), the
 * server front's own (auth, limits), and the client's: TIMEOUT (the per-call timeout passed), ABORTED (the caller's
 * AbortSignal), NETWORK (no HTTP answer), BAD_RESPONSE (an answer that is not the API's JSON).
 */
export type SkycacheErrorCode =
  | CacheErrorCode
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'TOO_MANY_REQUESTS'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'NETWORK'
  | 'BAD_RESPONSE'
  | (string & {});

/** Any failure of a call: the server's error (status, code, message, details) or the client's own. */
export class SkycacheError extends Error {
  constructor(
    readonly code: SkycacheErrorCode,
    message: string,
    /** The HTTP status, or 0 when there was no HTTP answer. */
    readonly status: number,
    /** The server's machine-readable facts, e.g. `currentVersion` on a VERSION_CONFLICT. */
    readonly details?: Record<string, unknown>,
    /** The server's x-request-id, to find the request in its logs. */
    readonly requestId?: string,
    /** How many attempts were made (retries included). */
    readonly attempts = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SkycacheError';
  }
}

/**
 * A write-behind failure: the listed items were acknowledged (written to the cache) but could not be persisted to
 * the source of truth within the retries. They are not retried again: the caller decides (docs/client.md).
 */
export class WriteBehindError extends Error {
  constructor(
    message: string,
    readonly items: readonly { key: string; value: unknown }[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WriteBehindError';
  }
}

/** The write-behind queue is full: the write was not acknowledged (nothing was written). */
export class WriteBehindFullError extends Error {
  constructor(readonly limit: number) {
    super(`the write-behind queue holds its limit of ${limit} items not yet persisted; nothing was written (wait for a flush, or raise maxQueue)`);
    this.name = 'WriteBehindFullError';
  }
}
