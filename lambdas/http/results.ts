import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { CacheErrorCode } from '../core/errors';

/** HTTP status for each domain error code: the only place the domain's vocabulary meets HTTP. */
export const STATUS_OF: Record<CacheErrorCode, number> = {
  BAD_REQUEST: 400,
  INVALID_KEY: 400,
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_ACCEPTABLE: 406,
  CONFLICT: 409,
  VERSION_CONFLICT: 409,
  /** A write with a lease token that is not the key's current lease (issue 13). */
  LEASE_CONFLICT: 409,
  /** A read asking for a lease on a miss while another caller holds it (issue 13): details.retryAfterMs. */
  FILLING: 404,
  WRONG_TYPE: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  OUT_OF_MEMORY: 507,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export const REQUEST_ID_HEADER = 'x-request-id';

export interface HttpResult {
  status: number;
  /** Serialized as JSON; omitted for 204/304. A string is sent as already-serialized JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

export function json(status: number, body?: unknown, headers?: Record<string, string>): HttpResult {
  return { status, body, headers };
}

export function errorBody(code: string, message: string, details?: Record<string, unknown>) {
  return { error: { code, message, ...(details ? { details } : {}) } };
}

export function toProxyResult(result: HttpResult, requestId: string): APIGatewayProxyResult {
  const headers: Record<string, string> = { [REQUEST_ID_HEADER]: requestId, ...result.headers };
  if (result.body === undefined || result.status === 204 || result.status === 304) {
    return { statusCode: result.status, headers, body: '' };
  }
  // A route may answer another media type (text/event-stream) by naming it; its body is then sent as given.
  headers['content-type'] ??= 'application/json; charset=utf-8';
  const body = typeof result.body === 'string' ? result.body : JSON.stringify(result.body);
  return { statusCode: result.status, headers, body };
}

/** Header lookup that ignores case: API Gateway keeps the client's casing, Node lower-cases. */
export function header(event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined {
  const headers = event.headers ?? {};
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const lower = name.toLowerCase();
  for (const k of Object.keys(headers)) if (k.toLowerCase() === lower) return headers[k];
  return undefined;
}
