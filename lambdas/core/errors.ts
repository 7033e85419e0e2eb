/**
 * Failures the cache domain reports. Each carries a stable machine-readable code; the HTTP layer maps codes to
 * statuses (see http.ts), so the domain never speaks HTTP.
 */
export type CacheErrorCode =
  | 'BAD_REQUEST'
  | 'INVALID_KEY'
  | 'VALIDATION_FAILED'
  | 'INVALID_JSON'
  | 'NOT_FOUND'
  | 'ROUTE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'NOT_ACCEPTABLE'
  | 'CONFLICT'
  | 'VERSION_CONFLICT'
  | 'LEASE_CONFLICT'
  | 'FILLING'
  | 'WRONG_TYPE'
  | 'PRECONDITION_FAILED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'OUT_OF_MEMORY'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export class CacheError extends Error {
  constructor(
    readonly code: CacheErrorCode,
    message: string,
    /** Extra machine-readable facts for the client, e.g. the current version on a conflict. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'CacheError';
  }
}

/** Redis (or the network to it) failed in a way the client may retry: connection refused, timeout, failover. */
export class UnavailableError extends CacheError {
  constructor(message = 'the cache is temporarily unavailable; retry shortly') {
    super('UNAVAILABLE', message);
  }
}
